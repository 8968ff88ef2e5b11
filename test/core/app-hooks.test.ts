import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

for (const [door, open] of Object.entries(DOORS)) {
  describe(`app.before / app.after through the ${door} door`, () => {
    it('runs after() hooks on an answer from before(), as Flask runs after_request', async (t) => {
      const app = new Carafe()
      const seen: string[] = []
      app.after((c) => { seen.push('after-outer'); c.header('x-outer', 'yes') })
      app.before((c) => (c.req.header('x-token') === 'ok' ? undefined : c.text('denied', 401)))
      app.after((c) => { seen.push(`after-1:${c.statusCode}`); c.header('x-after', 'yes') })
      app.after(() => { seen.push('after-2') })
      app.get('/', () => 'secret page')
      const fetch = await open(app, t)
      let res = await fetch('/')
      assert.equal(res.status, 401)
      assert.equal(await res.text(), 'denied')
      assert.equal(res.headers.get('x-after'), 'yes')
      assert.equal(res.headers.get('x-outer'), 'yes')
      assert.deepEqual(seen, ['after-2', 'after-1:401', 'after-outer'])
      seen.length = 0
      res = await fetch('/', { headers: { 'x-token': 'ok' } })
      assert.equal(await res.text(), 'secret page')
      assert.equal(res.headers.get('x-after'), 'yes')
      assert.deepEqual(seen, ['after-2', 'after-1:200', 'after-outer'])
    })

    it('runs after() hooks on a plain value returned by before(), and skips the handler', async (t) => {
      const app = new Carafe()
      let handled = false
      app.before(() => ({ early: true }))
      app.after((c) => { c.header('x-after', String(c.statusCode)) })
      app.get('/', () => { handled = true; return 'no' })
      const fetch = await open(app, t)
      const res = await fetch('/')
      assert.deepEqual(await res.json(), { early: true })
      assert.equal(res.headers.get('x-after'), '200')
      assert.equal(handled, false)
    })
  })
}
