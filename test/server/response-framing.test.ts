import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { Carafe, compress } from '../../src/index.js'
import { DOORS, serve } from '../helpers/server.js'

const TEXT = 'x'.repeat(3001)
const GZIPPED = gzipSync(TEXT)

/** An upstream that answers gzip with its compressed length, as a real origin does. */
async function gzipUpstream(t: TestContext): Promise<string> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': GZIPPED.byteLength, etag: '"v1"', connection: 'keep-alive', 'keep-alive': 'timeout=99' })
    res.end(req.method === 'HEAD' ? undefined : GZIPPED)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const addr = server.address()
  return `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/`
}

/** Raw bytes of everything answered on one keep-alive connection to two pipelined requests. */
function pipelined(port: number, path: string, ms = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n`))
    const timer = setTimeout(() => s.destroy(), ms)
    s.on('data', (c: Buffer) => chunks.push(c))
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')) })
    s.on('error', reject)
  })
}

function headersOf(res: Response): IncomingHttpHeaders {
  return Object.fromEntries(res.headers)
}

for (const [name, door] of Object.entries(DOORS)) {
  describe(`a handler returning a Response (${name} door)`, () => {
    it('sends a fetch() result with its decoded body and without the upstream framing', async (t) => {
      const upstream = await gzipUpstream(t)
      const app = new Carafe()
      app.get('/proxy', () => fetch(upstream))
      const send = await door(app, t)
      const res = await send('/proxy', { headers: { 'accept-encoding': 'identity' } })
      const h = headersOf(res)
      assert.equal(h['content-encoding'], undefined)
      assert.notEqual(h['content-length'], String(GZIPPED.byteLength))
      assert.notEqual(h['keep-alive'], 'timeout=99')
      assert.equal(h.etag, 'W/"v1"')
      assert.equal(await res.text(), TEXT)
    })

    it('keeps the Content-Encoding of a body user code compressed itself', async (t) => {
      const app = new Carafe()
      app.get('/gz', () => new Response(GZIPPED, { headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': String(GZIPPED.byteLength) } }))
      const send = await door(app, t)
      const res = await send('/gz')
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      // Over the wire fetch() decodes it; in process the bytes come as they are.
      const bytes = Buffer.from(await res.arrayBuffer())
      assert.equal(name === 'fetch' ? gunzipSync(bytes).toString() : bytes.toString(), TEXT)
    })

    it('compresses a fetch() result under compress() like any body', async (t) => {
      const upstream = await gzipUpstream(t)
      const app = new Carafe()
      app.use(compress())
      app.get('/proxy', () => fetch(upstream))
      const send = await door(app, t)
      const res = await send('/proxy', { headers: { 'accept-encoding': 'br' } })
      assert.equal(res.headers.get('content-encoding'), 'br')
      assert.equal(res.headers.get('content-length'), null)
      const bytes = Buffer.from(await res.arrayBuffer())
      assert.equal(name === 'fetch' ? brotliDecompressSync(bytes).toString() : bytes.toString(), TEXT)
    })

    it('answers HEAD with what GET would send, and releases the upstream body', async (t) => {
      const upstream = await gzipUpstream(t)
      const app = new Carafe()
      app.get('/proxy', () => fetch(upstream))
      app.get('/sized', () => new Response('hello', { headers: { 'content-length': '5' } }))
      const send = await door(app, t)
      const res = await send('/proxy', { method: 'HEAD' })
      assert.equal(res.headers.get('content-encoding'), null)
      assert.notEqual(res.headers.get('content-length'), String(GZIPPED.byteLength))
      const sized = await send('/sized', { method: 'HEAD' })
      assert.equal(sized.headers.get('content-length'), '5')
    })
  })
}

describe('a Response whose declared length is wrong (Node door)', () => {
  it('never lets the rest of a body longer than its Content-Length be read as another response', async (t) => {
    const app = new Carafe()
    const smuggled = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled'
    app.get('/short', () => new Response(`hello${smuggled}`, { headers: { 'content-length': '5', connection: 'keep-alive' } }))
    app.get('/next', () => 'next')
    const s = await serve(t, app)
    const out = await pipelined(s.port, '/short')
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n[^]*content-length: 5\r\n[^]*\r\n\r\nhello/i)
    assert.doesNotMatch(out, /smuggled|content-length: 8/)
    assert.equal(out.match(/HTTP\/1\.1 200/g)?.length, 1, out)
  })

  it('frames the body itself when the Response names its own Transfer-Encoding', async (t) => {
    const app = new Carafe()
    app.get('/te', () => new Response('hello', { headers: { 'content-length': '3', 'transfer-encoding': 'identity' } }))
    app.get('/next', () => 'next')
    const s = await serve(t, app)
    const out = await pipelined(s.port, '/te')
    assert.doesNotMatch(out, /transfer-encoding: identity/i)
    assert.doesNotMatch(out, /content-length: 3\r\n/i)
    assert.match(out, /\r\n\r\n5\r\nhello\r\n0\r\n\r\n/)
    assert.match(out, /next$/)
  })

  it('closes the connection when the body is shorter than its Content-Length', async (t) => {
    const app = new Carafe()
    app.get('/long', () => new Response('hello', { headers: { 'content-length': '50' } }))
    app.get('/next', () => 'next')
    const s = await serve(t, app)
    const started = Date.now()
    const out = await pipelined(s.port, '/long', 5000)
    assert.ok(Date.now() - started < 4000, 'the client waited for bytes that never come')
    assert.doesNotMatch(out, /next$/)
  })

  it('sends a body that matches its declared length with that length', async (t) => {
    const app = new Carafe()
    app.get('/ok', () => new Response('hello', { headers: { 'content-length': '5' } }))
    const s = await serve(t, app)
    const res = await fetch(`${s.url}/ok`)
    assert.equal(res.headers.get('content-length'), '5')
    assert.equal(await res.text(), 'hello')
  })
})

describe('a Response whose declared length is wrong (Fetch door)', () => {
  it('fails the body instead of passing more bytes than the declared length', async () => {
    const app = new Carafe()
    app.get('/short', () => new Response('hello and more', { headers: { 'content-length': '5' } }))
    const res = await app.request('/short')
    assert.equal(res.headers.get('content-length'), '5')
    await assert.rejects(res.arrayBuffer())
  })
})
