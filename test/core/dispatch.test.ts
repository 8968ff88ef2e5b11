import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, HttpError, isHttpError } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.error
  console.error = () => {}
  try { return await fn() } finally { console.error = original }
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`onError through the ${door} door`, () => {
    it('keeps HTTP errors their status with the README pattern (return or rethrow the error)', async (t) => {
      for (const style of ['return', 'throw', 'async return'] as const) {
        const app = new Carafe()
        app.get('/bad', () => { throw new HttpError(400, 'need a name') })
        app.get('/boom', () => { throw new Error('db down') })
        app.onError((err, c) => {
          if (isHttpError(err)) {
            if (style === 'throw') throw err
            return style === 'return' ? err : Promise.resolve(err)
          }
          return c.json({ error: 'internal error' }, 500)
        })
        const fetch = await open(app, t)
        let res = await fetch('/bad', { headers: { accept: 'application/json' } })
        assert.equal(res.status, 400, style)
        assert.deepEqual(await res.json(), { error: 'Bad Request', status: 400, message: 'need a name' })
        res = await fetch('/nothing-here')
        assert.equal(res.status, 404, style)
        res = await fetch('/bad', { method: 'POST' })
        assert.equal(res.status, 405, style)
        assert.match(res.headers.get('allow') ?? '', /^GET, HEAD/)
        res = await fetch('/boom')
        assert.equal(res.status, 500, style)
        assert.deepEqual(await res.json(), { error: 'internal error' })
      }
    })

    it('gives the default 500 (logged) for another error returned by onError', async (t) => {
      const app = new Carafe()
      app.get('/boom', () => { throw new Error('db down') })
      app.onError(() => new Error('wrapped'))
      const fetch = await open(app, t)
      const res = await quiet(() => fetch('/boom', { headers: { accept: 'text/plain' } }))
      assert.equal(res.status, 500)
      assert.equal(await res.text(), '500 Internal Server Error: the server hit an error and could not finish the request\n')
    })

    it('chooses the error body by the client: HTML for browsers, JSON for API clients, text otherwise', async (t) => {
      const app = new Carafe()
      const fetch = await open(app, t)
      let res = await fetch('/x', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.match(await res.text(), /<h1>404 Not Found<\/h1>/)
      res = await fetch('/x', { headers: { accept: 'application/json' } })
      assert.equal(res.headers.get('content-type'), 'application/json')
      res = await fetch('/x', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      assert.equal(res.headers.get('content-type'), 'application/json')
      res = await fetch('/x', { headers: { accept: '*/*' } })
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    })
  })
}
