import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, CarafeError, HttpError } from '../../src/index.js'

/** A request from `remoteAddress`, through the Fetch door. */
function from(app: Carafe, remoteAddress: string, headers: Record<string, string> = {}): Promise<Response> {
  return app.fetch(new Request('http://localhost/id', { headers }), { remoteAddress })
}

function idApp(options: ConstructorParameters<typeof Carafe>[0] = {}): Carafe {
  const app = new Carafe(options)
  app.get('/id', (c) => c.requestId)
  return app
}

describe('c.requestId', () => {
  it('keeps the X-Request-Id of a trusted proxy', async () => {
    const app = idApp({ trustProxy: '10.0.0.0/8' })
    assert.equal(await (await from(app, '10.1.2.3', { 'x-request-id': 'abc-123.def:ghi/j+k=' })).text(), 'abc-123.def:ghi/j+k=')
  })

  it('replaces the X-Request-Id of a client that is not a trusted proxy', async () => {
    for (const app of [idApp(), idApp({ trustProxy: '10.0.0.0/8' })]) {
      const id = await (await from(app, '203.0.113.9', { 'x-request-id': 'spoofed' })).text()
      assert.notEqual(id, 'spoofed')
      assert.match(id, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/)
    }
  })

  it('replaces a malformed X-Request-Id even from a trusted proxy', async () => {
    const app = idApp({ trustProxy: true })
    for (const bad of ['has space', 'a"b', 'x'.repeat(201), 'a,b', '<script>']) {
      const id = await (await from(app, '10.0.0.1', { 'x-request-id': bad })).text()
      assert.notEqual(id, bad)
      assert.match(id, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/)
    }
    assert.equal(await (await from(app, '10.0.0.1', { 'x-request-id': 'x'.repeat(200) })).text(), 'x'.repeat(200))
  })

  it('makes a different id for each request, and the same one for every read within one', async () => {
    const app = new Carafe()
    app.get('/twice', (c) => `${c.requestId} ${c.requestId}`)
    const [a, b] = (await (await app.request('/twice')).text()).split(' ')
    assert.equal(a, b)
    const [c] = (await (await app.request('/twice')).text()).split(' ')
    assert.notEqual(a, c)
  })

  it('makes no id for a request nothing asks it of (genRequestId is not called)', async () => {
    let made = 0
    const app = new Carafe({ genRequestId: () => `gen-${++made}` })
    app.get('/quiet', () => 'ok')
    app.get('/id', (c) => c.requestId)
    await app.request('/quiet')
    assert.equal(made, 0)
    assert.equal(await (await app.request('/id')).text(), 'gen-1')
    assert.equal(made, 1)
  })

  it('reads the header named by requestIdHeader and echoes the id in it, on error answers too', async () => {
    const app = new Carafe({ trustProxy: true, requestIdHeader: 'X-Trace-Id' })
    app.get('/ok', () => 'ok')
    app.get('/fail', () => { throw new HttpError(418, 'teapot') })
    const kept = await app.fetch(new Request('http://localhost/ok', { headers: { 'x-trace-id': 'trace-1' } }), { remoteAddress: '10.0.0.1' })
    assert.equal(kept.headers.get('x-trace-id'), 'trace-1')
    const made = await app.request('/ok')
    assert.match(made.headers.get('x-trace-id') ?? '', /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/)
    const missing = await app.request('/nope')
    assert.equal(missing.status, 404)
    assert.ok(missing.headers.get('x-trace-id'))
    assert.ok((await app.request('/fail')).headers.get('x-trace-id'))
  })

  it('does not echo the id unless requestIdHeader is set', async () => {
    const app = idApp()
    const res = await app.request('/id')
    assert.equal(res.headers.get('x-request-id'), null)
  })

  it('refuses a requestIdHeader that is not a header name', () => {
    assert.throws(() => new Carafe({ requestIdHeader: 'x request id' }), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_REQUEST_ID_HEADER')
  })
})
