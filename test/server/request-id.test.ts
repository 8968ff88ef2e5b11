import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Carafe, type CarafeOptions } from '../../src/index.js'
import { AccessLog, type AccessLogFormat } from '../../src/server/access-log.js'
import { createNodeHandler } from '../../src/server/node.js'
import { serve } from '../helpers/server.js'

/**
 * The app behind a real `node:http` server on loopback, its access log written to a file;
 * `lines()` flushes and reads it. (`app.listen()` logs to stdout, which a test cannot read.)
 */
async function logged(t: TestContext, app: Carafe, format: AccessLogFormat): Promise<{ url: string; lines(): Promise<string[]> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-reqid-'))
  const fd = openSync(path.join(dir, 'log'), 'w')
  const log = new AccessLog(format, fd)
  const server = createServer(createNodeHandler(app, { log, maxUrlLength: 8192, state: { closing: false } }))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    closeSync(fd)
    await rm(dir, { recursive: true, force: true })
  })
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    async lines() {
      log.flush()
      return (await readFile(path.join(dir, 'log'), 'utf8')).split('\n').filter((l) => l !== '')
    },
  }
}

function idApp(options: CarafeOptions): Carafe {
  const app = new Carafe(options)
  app.get('/id', (c) => c.requestId)
  app.get('/ip', (c) => c.req.ip ?? '-')
  app.get('/quiet', () => 'ok')
  return app
}

describe('request ids over HTTP', () => {
  it('replaces an X-Request-Id a client sends directly, keeps one from a trusted proxy, replaces a malformed one', async (t) => {
    const untrusted = await serve(t, idApp({ trustProxy: '10.0.0.0/8' }))
    const spoofed = await (await fetch(`${untrusted.url}/id`, { headers: { 'x-request-id': 'spoofed-1' } })).text()
    assert.notEqual(spoofed, 'spoofed-1')
    assert.match(spoofed, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/)

    // The test client connects from loopback: with loopback trusted, it is the proxy.
    const trusted = await serve(t, idApp({ trustProxy: 'loopback' }))
    assert.equal(await (await fetch(`${trusted.url}/id`, { headers: { 'x-request-id': 'from-proxy-1' } })).text(), 'from-proxy-1')
    const bad = await (await fetch(`${trusted.url}/id`, { headers: { 'x-request-id': 'bad id\t1' } })).text()
    assert.notEqual(bad, 'bad id\t1')
    assert.match(bad, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/)
  })

  it('echoes the id in the response with requestIdHeader', async (t) => {
    const s = await serve(t, idApp({ trustProxy: 'loopback', requestIdHeader: 'x-request-id' }))
    const res = await fetch(`${s.url}/quiet`, { headers: { 'x-request-id': 'echo-me' } })
    assert.equal(res.headers.get('x-request-id'), 'echo-me')
  })

  it('puts the request id in the json access log line and in c.log lines', async (t) => {
    const lines: Array<Record<string, unknown>> = []
    const app = new Carafe({ logger: { write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) } })
    app.get('/work', (c) => {
      c.log.info('working')
      return c.requestId
    })
    app.get('/quiet', () => 'ok')
    const s = await logged(t, app, 'json')
    const id = await (await fetch(`${s.url}/work`)).text()
    await (await fetch(`${s.url}/quiet`)).text()
    const [work, quiet] = (await s.lines()).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(work!.requestId, id)
    assert.equal(lines[0]!.requestId, id)
    assert.equal(lines[0]!.path, '/work')
    // An id nobody read during the request is made for the json line.
    assert.equal(quiet!.url, '/quiet')
    assert.match(quiet!.requestId as string, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/)
    assert.notEqual(quiet!.requestId, id)
  })

  it('logs the forwarded client address only through a trusted proxy', async (t) => {
    const viaProxy = await logged(t, idApp({ trustProxy: 'loopback' }), 'default')
    assert.equal(await (await fetch(`${viaProxy.url}/ip`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).text(), '203.0.113.7')
    assert.match((await viaProxy.lines())[0]!, /^203\.0\.113\.7 - - \[/)

    const direct = await logged(t, idApp({ trustProxy: '10.0.0.0/8' }), 'combined')
    assert.equal(await (await fetch(`${direct.url}/ip`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).text(), '127.0.0.1')
    const [line] = await direct.lines()
    assert.match(line!, /^127\.0\.0\.1 - - \[/)
    assert.doesNotMatch(line!, /203\.0\.113\.7/)
  })

  it('logs the forwarded address for a streamed body too', async (t) => {
    const app = new Carafe({ trustProxy: 'loopback' })
    app.get('/stream', () => new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('hi')); c.close() } })))
    const s = await logged(t, app, 'json')
    assert.equal(await (await fetch(`${s.url}/stream`, { headers: { 'x-forwarded-for': '198.51.100.4', 'x-request-id': 'stream-1' } })).text(), 'hi')
    // The line is written once the stream has ended, after the client has its answer.
    let lines: string[] = []
    for (let i = 0; i < 50 && lines.length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      lines = await s.lines()
    }
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>
    assert.equal(entry.remote, '198.51.100.4')
    assert.equal(entry.requestId, 'stream-1')
  })
})
