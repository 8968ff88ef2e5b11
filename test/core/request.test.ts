import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

function nested(depth: number, inner: string, key = 'a'): string {
  return `{"${key}":`.repeat(depth) + inner + '}'.repeat(depth)
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`CarafeRequest.json() through the ${door} door`, () => {
    it('refuses a "__proto__" or "constructor.prototype" key at any depth, and scans deep input without overflowing', async (t) => {
      const app = new Carafe({ bodyLimit: 8 * 1024 * 1024 })
      app.post('/echo', async (c) => { await c.req.json(); return 'parsed' })
      const fetch = await open(app, t)
      const post = (body: string): Promise<Response> => fetch('/echo', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
      for (const depth of [255, 256, 257, 300, 10_000, 200_000]) {
        for (const inner of ['{"__proto__":{"polluted":1}}', '{"\\u005f_proto__":1}', '{"constructor":{"prototype":{"polluted":1}}}', '[1,[{"__proto__":1}]]']) {
          const res = await post(nested(depth, inner))
          assert.equal(res.status, 400, `depth ${depth}: ${inner}`)
          assert.match((await res.json() as { message: string }).message, /"__proto__" or "constructor.prototype" key/)
        }
      }
      // Deep but clean input is parsed, and wide input is scanned too.
      assert.equal(await (await post(nested(200_000, '{"prototype":1}'))).text(), 'parsed')
      assert.equal(await (await post(`[${'{"prototype":1},'.repeat(100_000)}{"__proto__":1}]`)).status, 400)
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })
  })
}
