import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFolderApp, type StaticOptions } from '../../src/static/index.js'
import { DOORS } from '../helpers/server.js'
import { tempTree } from './helpers.js'

const TEXT = 'hello, static world\n'
const BIG = Buffer.alloc(300_000, 'abcdefghij') // streamed from disk when the cache limit is lower

for (const [door, open] of Object.entries(DOORS)) {
  describe(`static files over the ${door} door`, () => {
    async function setup(t: import('node:test').TestContext, options: StaticOptions = {}): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
      const dir = await tempTree(t, {
        'hello.txt': TEXT,
        'page.html': '<p>hi</p>',
        'data.json': '{"a":1}',
        'img.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
        'empty.txt': '',
        'big.bin': BIG,
        'site/index.html': '<h1>site</h1>',
        'plain/x.txt': 'x',
        '나의 비밀 방.txt': '비밀',
      })
      const { app } = createFolderApp(dir, options)
      return open(app, t)
    }

    it('sends a file with its type, length and validators', async (t) => {
      const send = await setup(t)
      const res = await send('/hello.txt')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(TEXT)))
      assert.match(res.headers.get('etag') ?? '', /^"[0-9a-z]+-[0-9a-z]+"$/)
      assert.match(res.headers.get('last-modified') ?? '', /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/)
      assert.equal(res.headers.get('accept-ranges'), 'bytes')
      assert.equal(res.headers.get('cache-control'), 'no-cache')
      assert.equal(await res.text(), TEXT)
      assert.equal((await send('/page.html')).headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal((await send('/data.json')).headers.get('content-type'), 'application/json; charset=utf-8')
      assert.equal((await send('/img.png')).headers.get('content-type'), 'image/png')
    })

    it('serves percent-encoded Korean names with spaces', async (t) => {
      const send = await setup(t)
      const res = await send(`/${encodeURIComponent('나의 비밀 방.txt')}`)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), '비밀')
    })

    it('answers HEAD with the headers and no body', async (t) => {
      const send = await setup(t)
      const res = await send('/hello.txt', { method: 'HEAD' })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(TEXT)))
      assert.equal(await res.text(), '')
      const big = await send('/big.bin', { method: 'HEAD' })
      assert.equal(big.headers.get('content-length'), String(BIG.length))
      assert.equal(await big.text(), '')
    })

    it('sends an empty file', async (t) => {
      const send = await setup(t)
      const res = await send('/empty.txt')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-length'), '0')
      assert.equal(await res.text(), '')
    })

    it('answers 304 to If-None-Match and If-Modified-Since when the copy is current', async (t) => {
      const send = await setup(t)
      const first = await send('/hello.txt')
      const etag = first.headers.get('etag')!
      const modified = first.headers.get('last-modified')!
      const a = await send('/hello.txt', { headers: { 'if-none-match': etag } })
      assert.equal(a.status, 304)
      assert.equal(a.headers.get('etag'), etag)
      assert.equal(a.headers.get('cache-control'), 'no-cache')
      assert.equal(await a.text(), '')
      assert.equal((await send('/hello.txt', { headers: { 'if-none-match': `"x", W/${etag}` } })).status, 304)
      assert.equal((await send('/hello.txt', { headers: { 'if-modified-since': modified } })).status, 304)
      assert.equal((await send('/hello.txt', { headers: { 'if-none-match': '"other"', 'if-modified-since': modified } })).status, 200)
      assert.equal((await send('/hello.txt', { headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).status, 200)
      assert.equal((await send('/hello.txt', { headers: { 'if-match': '"nope"' } })).status, 412)
    })

    it('answers a Range with 206 and Content-Range, in memory and from disk', async (t) => {
      const send = await setup(t, { cacheMaxFileSize: 100_000 })
      const a = await send('/hello.txt', { headers: { range: 'bytes=0-4' } })
      assert.equal(a.status, 206)
      assert.equal(a.headers.get('content-range'), `bytes 0-4/${Buffer.byteLength(TEXT)}`)
      assert.equal(a.headers.get('content-length'), '5')
      assert.equal(await a.text(), 'hello')
      const b = await send('/hello.txt', { headers: { range: 'bytes=-6' } })
      assert.equal(await b.text(), 'world\n')
      const c = await send('/big.bin', { headers: { range: 'bytes=100000-100009' } })
      assert.equal(c.status, 206)
      assert.equal(c.headers.get('content-range'), `bytes 100000-100009/${BIG.length}`)
      assert.deepEqual(Buffer.from(await c.arrayBuffer()), BIG.subarray(100000, 100010))
      const full = await send('/big.bin')
      assert.deepEqual(Buffer.from(await full.arrayBuffer()), BIG)
    })

    it('answers an unsatisfiable Range with 416 and bytes */size', async (t) => {
      const send = await setup(t)
      const res = await send('/hello.txt', { headers: { range: 'bytes=1000-' } })
      assert.equal(res.status, 416)
      assert.equal(res.headers.get('content-range'), `bytes */${Buffer.byteLength(TEXT)}`)
      await res.arrayBuffer()
    })

    it('sends the whole file for disjoint ranges, a bad Range or a stale If-Range', async (t) => {
      const send = await setup(t)
      const first = await send('/hello.txt')
      const etag = first.headers.get('etag')!
      const cases: Array<Record<string, string>> = [{ range: 'bytes=0-1, 5-6' }, { range: 'lines=1-2' }, { range: 'bytes=0-1', 'if-range': '"stale"' }]
      for (const headers of cases) {
        const res = await send('/hello.txt', { headers })
        assert.equal(res.status, 200, JSON.stringify(headers))
        assert.equal(await res.text(), TEXT)
      }
      const ok = await send('/hello.txt', { headers: { range: 'bytes=0-1', 'if-range': etag } })
      assert.equal(ok.status, 206)
      assert.equal(await ok.text(), 'he')
    })

    it('serves index.html for a folder and redirects a folder without its slash, keeping the query', async (t) => {
      const send = await setup(t)
      const a = await send('/site/')
      assert.equal(a.status, 200)
      assert.equal(await a.text(), '<h1>site</h1>')
      const b = await send('/site?x=1&y=%20')
      assert.equal(b.status, 301)
      assert.equal(b.headers.get('location'), '/site/?x=1&y=%20')
      assert.equal(await b.text(), '')
      const c = await send('/plain')
      assert.equal(c.status, 301)
      assert.equal(c.headers.get('location'), '/plain/')
    })

    it('answers 404 for missing files and for a file asked for as a folder', async (t) => {
      const send = await setup(t)
      for (const p of ['/nope.txt', '/hello.txt/', '/plain/nope/', '/nope/x.txt']) {
        const res = await send(p)
        assert.equal(res.status, 404, p)
        await res.arrayBuffer()
      }
    })

    it('answers other methods with 405 and Allow, and OPTIONS with 204', async (t) => {
      const send = await setup(t)
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await send('/hello.txt', { method, body: method === 'DELETE' ? undefined : 'x' })
        assert.equal(res.status, 405, method)
        assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS')
        await res.arrayBuffer()
      }
      const opt = await send('/hello.txt', { method: 'OPTIONS' })
      assert.equal(opt.status, 204)
      assert.equal(opt.headers.get('allow'), 'GET, HEAD, OPTIONS')
    })

    it('sends Cache-Control from maxAge and immutable', async (t) => {
      const send = await setup(t, { maxAge: 3600, immutable: true })
      assert.equal((await send('/hello.txt')).headers.get('cache-control'), 'public, max-age=3600, immutable')
    })

    it('adds CORS headers and answers preflights when asked', async (t) => {
      const send = await setup(t, { cors: true })
      assert.equal((await send('/hello.txt')).headers.get('access-control-allow-origin'), '*')
      const missing = await send('/nope')
      assert.equal(missing.status, 404)
      assert.equal(missing.headers.get('access-control-allow-origin'), '*')
      const pre = await send('/hello.txt', { method: 'OPTIONS', headers: { origin: 'http://x.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' } })
      assert.equal(pre.status, 204)
      assert.equal(pre.headers.get('access-control-allow-origin'), '*')
      assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS')
      assert.equal(pre.headers.get('access-control-allow-headers'), 'range')
    })

    it('serves index.html for unknown HTML requests in single-page-app mode, and 404 otherwise', async (t) => {
      const dir = await tempTree(t, { 'index.html': '<div id=app></div>', 'app.js': 'x' })
      const send = await open(createFolderApp(dir, { spa: true }).app, t)
      const page = await send('/users/42', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
      assert.equal(page.status, 200)
      assert.equal(await page.text(), '<div id=app></div>')
      const asset = await send('/missing.js', { headers: { accept: '*/*' } })
      assert.equal(asset.status, 404)
      await asset.arrayBuffer()
      assert.equal((await send('/app.js')).status, 200)
    })
  })
}
