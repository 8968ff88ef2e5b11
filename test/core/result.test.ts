import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'
import { captureErrors as capture } from '../helpers/capture.js'


for (const [door, open] of Object.entries(DOORS)) {
  describe(`handler results through the ${door} door`, () => {
    it('answers 500 with a logged hint when a handler returns nothing and sets nothing', async (t) => {
      const app = new Carafe()
      app.get('/forgot', () => { /* forgot to return */ })
      app.get('/forgot-async', async () => { await Promise.resolve() })
      app.use(async (c, next) => { await next() })
      const fetch = await open(app, t)
      for (const p of ['/forgot', '/forgot-async']) {
        const { value: res, logged } = await capture(() => fetch(p))
        assert.equal(res.status, 500, p)
        assert.doesNotMatch(await res.text(), /returned nothing/, p)
        assert.match(logged, /ERR_NO_RESPONSE|returned nothing and set no response/, p)
        assert.match(logged, new RegExp(`GET ${p} `), p)
      }
    })

    it('says so on the debug page in debug mode', async (t) => {
      const app = new Carafe({ debug: true })
      app.get('/forgot', () => {})
      const fetch = await open(app, t)
      const { value: res } = await capture(() => fetch('/forgot'))
      assert.equal(res.status, 500)
      assert.match(await res.text(), /returned nothing and set no response/)
    })

    it('keeps handlers valid that set the response on c and return nothing', async (t) => {
      const app = new Carafe()
      app.get('/json', (c) => { c.json({ a: 1 }) })
      app.get('/status', (c) => { c.status(204) })
      app.get('/header', (c) => { c.header('x-a', 'b') })
      app.get('/async', async (c) => { await Promise.resolve(); c.text('late') })
      app.get('/null', () => null)
      const fetch = await open(app, t)
      assert.deepEqual(await (await fetch('/json')).json(), { a: 1 })
      assert.equal((await fetch('/status')).status, 204)
      assert.equal((await fetch('/header')).headers.get('x-a'), 'b')
      assert.equal(await (await fetch('/async')).text(), 'late')
      assert.equal((await fetch('/null')).status, 200)
    })

    it('keeps a mounted Carafe app that answers null an empty 200', async (t) => {
      const sub = new Carafe()
      sub.get('/n', () => null)
      sub.get('/forgot', () => {})
      const app = new Carafe()
      app.mount('/sub', sub)
      const fetch = await open(app, t)
      const res = await fetch('/sub/n')
      assert.equal(res.status, 200)
      assert.equal(await res.text(), '')
      assert.equal((await capture(() => fetch('/sub/forgot'))).value.status, 500)
    })
  })
}
