import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Carafe, compress, cors, secureHeaders } from '../../src/index.js'
import { RAW_DOORS } from './raw-doors.js'

const APP = 'https://app.example'
const PAGE = `<!doctype html>\n${'<p>static page</p>\n'.repeat(200)}`

async function stackApp(t: { after(fn: () => unknown): void }): Promise<Carafe> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-stack-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await writeFile(path.join(dir, 'page.html'), PAGE)
  const app = new Carafe({ static: { dir, prefix: '/static', compress: true } })
  app.use(secureHeaders())
  app.use(cors({ origin: [APP] }))
  app.use(compress())
  app.get('/api/items', () => ({ items: Array.from({ length: 300 }, (_, i) => `item ${i}`) }))
  return app
}

for (const [door, open] of Object.entries(RAW_DOORS)) {
  describe(`secureHeaders + cors + compress through the ${door} door`, () => {
    it('compresses an API answer and carries every header, with one merged Vary', async (t) => {
      const get = await open(await stackApp(t), t)
      const res = await get('/api/items', { headers: { origin: APP, 'accept-encoding': 'gzip' } })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.deepEqual(res.headers.get('vary')?.split(/,\s*/).sort(), ['Accept-Encoding', 'Origin'])
      assert.equal(JSON.parse(gunzipSync(res.body).toString()).items.length, 300)
    })

    it('answers a preflight with an empty 204 that compress leaves alone', async (t) => {
      const get = await open(await stackApp(t), t)
      const res = await get('/api/items', { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST', 'accept-encoding': 'gzip' } })
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.body.length, 0)
    })

    it('leaves a static file the engine compressed itself as it is (no double encoding)', async (t) => {
      const get = await open(await stackApp(t), t)
      const res = await get('/static/page.html', { headers: { origin: APP, 'accept-encoding': 'gzip' } })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.equal(gunzipSync(res.body).toString(), PAGE)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.deepEqual(res.headers.get('vary')?.split(/,\s*/).sort(), ['Accept-Encoding', 'Origin'])
    })
  })
}
