import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { DOORS, rawRequest, serve } from '../helpers/server.js'

for (const [door, open] of Object.entries(DOORS)) {
  describe(`Context.header() through the ${door} door`, () => {
    it('refuses a value a header cannot carry where it is set, so onError answers a proper 500', async (t) => {
      const app = new Carafe()
      const seen: string[] = []
      app.onError((e, c) => {
        seen.push((e as Error).message)
        return c.text(`handled: ${(e as Error).name}`, 500)
      })
      app.get('/u', (c) => { c.header('x-name', 'caf\u0101'); return 'unreachable' })
      app.get('/emoji', (c) => { c.header('content-disposition', 'attachment; filename="\u{1F600}.txt"'); return 'unreachable' })
      app.get('/ctl', (c) => { c.header('x-a', 'a\x01b'); return 'unreachable' })
      // Latin-1 (obs-text) stays allowed: Node can write it.
      app.get('/latin1', (c) => { c.header('x-name', 'caf\u00e9\tok'); return 'fine' })
      const fetch = await open(app, t)
      for (const path of ['/u', '/emoji', '/ctl']) {
        const res = await fetch(path)
        assert.equal(res.status, 500, path)
        assert.equal(await res.text(), 'handled: TypeError')
      }
      assert.match(seen[0]!, /refusing header "x-name": its value contains U\+0101.*percent-encode/)
      assert.match(seen[1]!, /U\+1F600/)
      assert.match(seen[2]!, /U\+0001/)
      const ok = await fetch('/latin1')
      assert.equal(await ok.text(), 'fine')
      assert.match(ok.headers.get('x-name') ?? '', /^caf.+\tok$/)
    })
  })
}

describe('the Node door writer', () => {
  it('answers a well-formed 500 when Node refuses a header that slipped past the checks', async (t) => {
    const app = new Carafe()
    app.get('/t', (c) => c.body('x', 200, 'text/plain; name=\u0101'))
    const s = await serve(t, app)
    const errors: unknown[] = []
    const original = console.error
    console.error = (...args: unknown[]) => { errors.push(args) }
    t.after(() => { console.error = original })
    const out = await rawRequest(s.port, 'GET /t HTTP/1.1\r\nHost: x\r\n\r\n')
    console.error = original
    assert.match(out, /^HTTP\/1\.1 500 Internal Server Error\r\n/)
    assert.doesNotMatch(out, /\u0101/)
    assert.match(out, /\r\n\r\n500 Internal Server Error\n$/)
    assert.equal(errors.length, 1)
  })
})
