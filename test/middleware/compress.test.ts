import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync, gzipSync } from 'node:zlib'
import { Carafe, CarafeError, compress, type CompressMiddlewareOptions } from '../../src/index.js'
import { RAW_DOORS, type RawResponse } from './raw-doors.js'

const BIG = `<!doctype html>\n${'<p>안녕하세요, Carafe! '.repeat(200)}</p>\n`
const BIG_JSON = { items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })) }

function decode(res: RawResponse): string {
  const coding = res.headers.get('content-encoding')
  const bytes = coding === 'gzip' ? gunzipSync(res.body) : coding === 'br' ? brotliDecompressSync(res.body) : res.body
  return bytes.toString('utf8')
}

function appWith(options?: CompressMiddlewareOptions): Carafe {
  const app = new Carafe()
  app.use(compress(options))
  app.get('/big', () => BIG)
  app.get('/json', () => BIG_JSON)
  app.get('/small', () => '<p>small</p>')
  app.get('/png', (c) => c.body(new Uint8Array(4096), 200, 'image/png'))
  app.get('/octets', () => new Uint8Array(4096))
  app.get('/svg', (c) => c.body(Buffer.from(BIG), 200, 'image/svg+xml'))
  app.get('/etag', (c) => c.header('etag', '"v1"').html(BIG))
  app.get('/no-transform', (c) => c.header('cache-control', 'public, no-transform').html(BIG))
  app.get('/encoded', (c) => c.header('content-encoding', 'gzip').body(gzipped(), 200, 'text/plain'))
  app.get('/no-content', (c) => c.header('x-a', '1').body(null, 204))
  app.get('/not-modified', (c) => c.header('etag', '"v1"').body(null, 304, 'text/html'))
  app.get('/partial', (c) => c.header('content-range', `bytes 0-99/${BIG.length}`).body(BIG.slice(0, 100), 206, 'text/html'))
  app.get('/web', (c) => c.header('content-type', 'text/html') && new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode(BIG)); ctl.enqueue(new TextEncoder().encode('end')); ctl.close() } }))
  app.get('/node', (c) => { c.header('content-type', 'text/plain'); return Readable.from([Buffer.from(BIG), Buffer.from('end')]) })
  app.get('/gen', async function* () { yield BIG; yield 'end' })
  app.get('/response', () => new Response(BIG, { headers: { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(BIG)), etag: '"r1"', vary: 'Cookie' } }))
  app.get('/response-encoded', () => new Response(gzipped() as BodyInit, { headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' } }))
  return app
}

/** A body the handler gzipped itself. */
function gzipped(): Uint8Array {
  return new Uint8Array(gzipSync('already gzipped by the handler'))
}

/** Wait for `p`, failing after `ms` (a guard against hanging, not a sleep). */
async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })
  try {
    return await Promise.race([p, guard])
  } finally {
    clearTimeout(timer)
  }
}

for (const [door, open] of Object.entries(RAW_DOORS)) {
  describe(`compress through the ${door} door`, () => {
    it('compresses a big HTML string with br when the client accepts br and gzip equally', async (t) => {
      const get = await open(appWith(), t)
      const res = await get('/big', { headers: { 'accept-encoding': 'gzip, deflate, br' } })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-encoding'), 'br')
      assert.equal(res.headers.get('vary'), 'Accept-Encoding')
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(res.headers.get('content-length'), String(res.body.length))
      assert.ok(res.body.length < Buffer.byteLength(BIG) / 4)
      assert.equal(decode(res), BIG)
    })

    it('chooses by q-values, * and identity;q=0', async (t) => {
      const get = await open(appWith(), t)
      const cases: Array<[string, string | null]> = [
        ['gzip', 'gzip'],
        ['x-gzip', 'gzip'],
        ['br;q=0.5, gzip;q=0.8', 'gzip'],
        ['br;q=0, *', 'gzip'],
        ['*', 'br'],
        ['*;q=0.2, identity', null],
        ['deflate', null],
        ['identity', null],
        ['gzip;q=0, br;q=0', null],
      ]
      for (const [header, want] of cases) {
        const res = await get('/json', { headers: { 'accept-encoding': header } })
        assert.equal(res.headers.get('content-encoding'), want, header)
        assert.equal(res.headers.get('vary'), 'Accept-Encoding', header)
        assert.deepEqual(JSON.parse(decode(res)), BIG_JSON, header)
      }
      const none = await get('/json')
      assert.equal(none.headers.get('content-encoding'), null)
      assert.equal(none.headers.get('vary'), 'Accept-Encoding')
    })

    it('keeps small bodies as they are, unless the client refuses identity', async (t) => {
      const get = await open(appWith(), t)
      let res = await get('/small', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.headers.get('vary'), 'Accept-Encoding')
      assert.equal(res.body.toString(), '<p>small</p>')
      res = await get('/small', { headers: { 'accept-encoding': 'gzip, identity;q=0' } })
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.equal(decode(res), '<p>small</p>')
      const low = await open(appWith({ threshold: 0, encodings: ['gzip'] }), t)
      res = await low('/small', { headers: { 'accept-encoding': 'br, gzip' } })
      assert.equal(res.headers.get('content-encoding'), 'gzip')
    })

    it('answers HEAD with the Content-Encoding, Vary and length GET sends', async (t) => {
      const get = await open(appWith(), t)
      for (const ae of ['gzip, br', 'gzip', 'identity']) {
        for (const p of ['/big', '/json', '/small', '/svg', '/etag', '/web', '/node', '/gen', '/response', '/png']) {
          const full = await get(p, { headers: { 'accept-encoding': ae } })
          const head = await get(p, { method: 'HEAD', headers: { 'accept-encoding': ae } })
          const what = `HEAD ${p} (${ae})`
          assert.equal(head.status, full.status, what)
          assert.equal(head.body.length, 0, what)
          for (const h of ['content-encoding', 'vary', 'etag', 'content-type']) assert.equal(head.headers.get(h), full.headers.get(h), `${what}: ${h}`)
          const length = head.headers.get('content-length')
          if (length !== null) assert.equal(length, String(full.body.length), `${what}: content-length`)
        }
      }
    })

    it('leaves types that do not compress alone, without Vary', async (t) => {
      const get = await open(appWith(), t)
      for (const p of ['/png', '/octets']) {
        const res = await get(p, { headers: { 'accept-encoding': 'gzip, br' } })
        assert.equal(res.headers.get('content-encoding'), null, p)
        assert.equal(res.headers.get('vary'), null, p)
        assert.equal(res.body.length, 4096, p)
      }
      const svg = await get('/svg', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(svg.headers.get('content-encoding'), 'gzip')
    })

    it('skips encoded bodies, no-transform, 204, 304 and 206', async (t) => {
      const get = await open(appWith(), t)
      const ae = { 'accept-encoding': 'gzip, br' }
      let res = await get('/encoded', { headers: ae })
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.deepEqual(new Uint8Array(res.body), gzipped())
      res = await get('/no-transform', { headers: ae })
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.body.toString(), BIG)
      res = await get('/no-content', { headers: ae })
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.headers.get('vary'), null)
      res = await get('/not-modified', { headers: ae })
      assert.equal(res.status, 304)
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.headers.get('vary'), 'Accept-Encoding')
      res = await get('/partial', { headers: ae })
      assert.equal(res.status, 206)
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.headers.get('vary'), 'Accept-Encoding')
      assert.equal(res.body.toString(), BIG.slice(0, 100))
    })

    it('weakens a strong ETag on a compressed answer', async (t) => {
      const get = await open(appWith(), t)
      const res = await get('/etag', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(res.headers.get('etag'), 'W/"v1"')
      const plain = await get('/etag')
      assert.equal(plain.headers.get('etag'), '"v1"')
    })

    it('compresses ReadableStreams, Node streams and async generators as streams', async (t) => {
      const get = await open(appWith(), t)
      for (const [p, coding] of [['/web', 'gzip'], ['/node', 'br'], ['/gen', 'gzip']] as const) {
        const res = await get(p, { headers: { 'accept-encoding': coding } })
        assert.equal(res.status, 200, p)
        assert.equal(res.headers.get('content-encoding'), coding, p)
        assert.equal(res.headers.get('content-length'), null, p)
        assert.equal(res.headers.get('vary'), 'Accept-Encoding', p)
        assert.equal(decode(res), `${BIG}end`, p)
      }
    })

    for (const coding of ['gzip', 'br'] as const) {
      it(`sends each streamed chunk as it is produced with ${coding} (flushes, does not wait for the end)`, async (t) => {
        const app = new Carafe()
        app.use(compress())
        let release!: () => void
        const gate = new Promise<void>((resolve) => { release = resolve })
        app.get('/live', async function* () {
          yield '<p>first</p>'
          await gate
          yield '<p>second</p>'
        })
        const get = await open(app, t)
        const res = await get('/live', { headers: { 'accept-encoding': coding }, streaming: true })
        assert.equal(res.headers.get('content-encoding'), coding)
        const decoder = coding === 'gzip' ? createGunzip() : createBrotliDecompress()
        const reading = (async () => { for await (const chunk of res.stream) decoder.write(chunk); decoder.end() })()
        const decoded = decoder[Symbol.asyncIterator]()
        // Guarded wait: if the first chunk were held back until the end, this would time out.
        const first = await withTimeout(decoded.next(), 5000, 'the first chunk was held back until the end') as IteratorResult<Buffer>
        const text = [first.value.toString()]
        assert.equal(text.join(''), '<p>first</p>')
        release()
        for (let n = await decoded.next(); n.done !== true; n = await decoded.next()) text.push(n.value.toString())
        await reading
        assert.equal(text.join(''), '<p>first</p><p>second</p>')
      })
    }

    it('compresses a Response body unless it is encoded, keeping its headers', async (t) => {
      const get = await open(appWith(), t)
      let res = await get('/response', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.equal(res.headers.get('vary'), 'Cookie, Accept-Encoding')
      assert.equal(res.headers.get('etag'), 'W/"r1"')
      assert.notEqual(res.headers.get('content-length'), String(Buffer.byteLength(BIG)))
      assert.equal(decode(res), BIG)
      res = await get('/response-encoded', { headers: { 'accept-encoding': 'br' } })
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.deepEqual(new Uint8Array(res.body), gzipped())
    })

    it('leaves file bodies to the static engine, and answers that already vary on Accept-Encoding', async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'carafe-compress-'))
      t.after(() => rm(dir, { recursive: true, force: true }))
      const file = path.join(dir, 'page.html')
      await writeFile(file, BIG)
      const size = Buffer.byteLength(BIG)
      const app = appWith()
      app.get('/file', (c) => c.body({ kind: 'file', path: file, start: 0, end: size - 1 }, 200, 'text/html'))
      app.get('/negotiated', (c) => c.header('vary', 'Accept-Encoding').html(BIG))
      const get = await open(app, t)
      let res = await get('/file', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.body.toString(), BIG)
      res = await get('/negotiated', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(res.headers.get('content-encoding'), null)
      assert.equal(res.headers.get('vary'), 'Accept-Encoding')
    })

    it('never fails on a malformed Accept-Encoding, and keeps serving', async (t) => {
      const get = await open(appWith(), t)
      const junk = ['gzip;q=abc', 'br;q=2', ';;;,,,', 'gzip;q=0.5;q', 'q=1', '*;q=-1, gzip;q=1.0001', `${'x,'.repeat(2000)}gzip`, 'GZIP ; Q = 0.5']
      const want = [null, null, null, 'gzip', null, null, 'gzip', 'gzip']
      for (const [i, header] of junk.entries()) {
        const res = await get('/big', { headers: { 'accept-encoding': header } })
        assert.equal(res.status, 200, header)
        assert.equal(res.headers.get('content-encoding'), want[i], header)
        assert.equal(decode(res), BIG, header)
      }
      const after = await get('/big', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(after.status, 200)
      assert.equal(decode(after), BIG)
    })

    it('ends a stream that fails midway without taking the server down', async (t) => {
      const app = appWith()
      app.get('/broken', async function* () {
        yield BIG
        throw new Error('source broke')
      })
      const get = await open(app, t)
      await assert.rejects(async () => {
        const res = await get('/broken', { headers: { 'accept-encoding': 'gzip' } })
        // Both doors must not pass the truncated stream off as complete.
        gunzipSync(res.body)
      })
      const after = await get('/big', { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(after.status, 200)
      assert.equal(decode(after), BIG)
    })
  })
}

describe('compress options', () => {
  it('refuses bad settings with ERR_COMPRESS_OPTIONS', () => {
    const bad: CompressMiddlewareOptions[] = [
      { threshold: -1 },
      { threshold: 1.5 },
      { gzipLevel: 0 },
      { gzipLevel: 10 },
      { brotliQuality: 12 },
      { encodings: [] },
      { encodings: ['deflate' as 'gzip'] },
    ]
    for (const o of bad) assert.throws(() => compress(o), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_COMPRESS_OPTIONS', JSON.stringify(o))
  })

  it('takes a filter for the content types to compress', async () => {
    const app = new Carafe()
    app.use(compress({ filter: (type) => type.startsWith('image/png') }))
    app.get('/png', (c) => c.body(new Uint8Array(4096), 200, 'image/png'))
    app.get('/html', () => BIG)
    assert.equal((await app.request('/png', { headers: { 'accept-encoding': 'gzip' } })).headers.get('content-encoding'), 'gzip')
    assert.equal((await app.request('/html', { headers: { 'accept-encoding': 'gzip' } })).headers.get('content-encoding'), null)
  })

  it('returns a named middleware', () => {
    assert.equal(compress().name, 'compress')
  })
})
