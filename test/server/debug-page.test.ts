import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Carafe } from '../../src/index.js'
import { mayShowDebugPage } from '../../src/core/debug-gate.js'
import { rawRequest, serve } from '../helpers/server.js'

function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.error
  console.error = () => {}
  return fn().finally(() => { console.error = original })
}

describe('debug page', () => {
  it('shows the error, the source lines around each frame and the request to a loopback client', async () => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => {
      const marker = 'the line that throws'
      throw new Error(`kaboom: ${marker}`)
    })
    const res = await quiet(() => app.request('/boom?x=1', { headers: { 'x-probe': 'yes' } }))
    assert.equal(res.status, 500)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    const html = await res.text()
    assert.match(html, /Error: kaboom: the line that throws/)
    assert.match(html, /const marker = &#39;the line that throws&#39;/)
    assert.match(html, /x-probe/)
    assert.match(html, /GET http:\/\/localhost\/boom\?x=1/)
  })

  it('is never shown to a non-loopback client', async () => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => { throw new Error('kaboom secret') })
    const res = await quiet(() => app.fetch(new Request('http://example.com/boom'), { remoteAddress: '203.0.113.9' }))
    assert.equal(res.status, 500)
    assert.doesNotMatch(await res.text(), /kaboom|secret|at /)
  })

  it('is off by default', async () => {
    const app = new Carafe()
    app.get('/boom', () => { throw new Error('kaboom secret') })
    const res = await quiet(() => app.request('/boom'))
    assert.doesNotMatch(await res.text(), /kaboom/)
  })
})

describe('debug page gate', () => {
  it('is shown over real HTTP to a loopback socket with a loopback Host', async (t) => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => { throw new Error('kaboom visible') })
    const s = await serve(t, app)
    const res = await quiet(() => fetch(`${s.url}/boom`))
    assert.equal(res.status, 500)
    assert.match(await res.text(), /kaboom visible/)
    for (const host of ['localhost', `localhost:${s.port}`, '127.0.0.1', `127.0.0.1:${s.port}`, `[::1]:${s.port}`, 'LOCALHOST']) {
      const raw = await quiet(() => rawRequest(s.port, `GET /boom HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))
      assert.match(raw, /kaboom visible/, host)
    }
  })

  it('is refused for a non-loopback Host (DNS rebinding) and behind a proxy on this machine', async (t) => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => { throw new Error('kaboom secret') })
    const s = await serve(t, app)
    const probes = [
      'Host: evil.example',
      `Host: evil.example:${s.port}`,
      'Host: localhost.evil.example',
      'Host: 127.0.0.1.evil.example',
      `Host: localhost:${s.port}\r\nX-Forwarded-For: 203.0.113.9`,
      `Host: localhost:${s.port}\r\nForwarded: for=203.0.113.9`,
      `Host: localhost:${s.port}\r\nX-Forwarded-Host: app.example`,
      `Host: localhost:${s.port}\r\nX-Forwarded-Proto: https`,
      `Host: localhost:${s.port}\r\nX-Real-IP: 203.0.113.9`,
    ]
    for (const head of probes) {
      const raw = await quiet(() => rawRequest(s.port, `GET /boom HTTP/1.1\r\n${head}\r\nConnection: close\r\n\r\n`))
      assert.match(raw, /^HTTP\/1\.1 500/, head)
      assert.doesNotMatch(raw, /kaboom|secret|debug-page|at /, head)
    }
  })

  it('treats an unknown socket address as not loopback, and CARAFE_DEBUG_REMOTE=1 lifts every rule', () => {
    const headers = (h: Record<string, string>) => (name: string) => h[name]
    assert.equal(mayShowDebugPage(undefined, headers({ host: 'localhost' }), 'localhost'), false)
    assert.equal(mayShowDebugPage('', headers({ host: 'localhost' }), 'localhost'), false)
    assert.equal(mayShowDebugPage('203.0.113.9', headers({ host: 'localhost' }), 'localhost'), false)
    assert.equal(mayShowDebugPage('127.0.0.1', headers({}), 'localhost:8000'), true)
    assert.equal(mayShowDebugPage('127.0.0.1', headers({}), 'evil.example'), false)
    assert.equal(mayShowDebugPage('::ffff:127.0.0.1', headers({ host: '[::1]:80' }), '[::1]:80'), true)
    process.env.CARAFE_DEBUG_REMOTE = '1'
    try {
      assert.equal(mayShowDebugPage(undefined, headers({ host: 'evil.example', 'x-forwarded-for': '1.2.3.4' }), 'evil.example'), true)
    } finally {
      delete process.env.CARAFE_DEBUG_REMOTE
    }
  })

  it('reads source lines only from frames of the real stack, never from paths in the message', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-debug-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const secret = path.join(dir, 'secret.txt')
    await writeFile(secret, `line one\n${['TOP', 'SECRET', 'CONTENT'].join('-')}\nline three\n`)
    const app = new Carafe({ debug: true })
    app.get('/boom/<path:p>', (c) => { throw new Error(`bad input: ${String(c.params.p)}`) })
    app.get('/multi', () => { throw new Error(`bad\n    at evil (${secret}:2:1)\n    at /etc/passwd:1:1`) })
    const s = await serve(t, app)
    for (const p of [`/boom/x${encodeURIComponent(`\n    at y (${secret}:2:1)`)}`, '/multi']) {
      const res = await quiet(() => fetch(s.url + p))
      const html = await res.text()
      assert.equal(res.status, 500)
      assert.doesNotMatch(html, new RegExp(`${['TOP', 'SECRET', 'CONTENT'].join('-')}|root:x:0`), p)
      assert.match(html, /debug-page\.test\.js/, p)
    }
  })

  it('reads no file outside the app root and Carafe, even from a real frame', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-debug-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const outside = path.join(dir, 'outside.mjs')
    await writeFile(outside, `// ${['OUTSIDE', 'SOURCE', 'LINE'].join('-')}\nexport function boom() { throw new Error("from outside") }\n`)
    const { boom } = await import(pathToFileURL(outside).href) as { boom: () => never }
    const app = new Carafe({ debug: true, root: path.join(dir, 'app') })
    app.get('/boom', () => boom())
    const s = await serve(t, app)
    const html = await (await quiet(() => fetch(`${s.url}/boom`))).text()
    assert.match(html, /from outside/)
    assert.match(html, /outside\.mjs:2/)
    assert.doesNotMatch(html, new RegExp(['OUTSIDE', 'SOURCE', 'LINE'].join('-')))
  })

  it('masks Cookie, Authorization and Proxy-Authorization values', async (t) => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => { throw new Error('kaboom') })
    const s = await serve(t, app)
    const res = await quiet(() => fetch(`${s.url}/boom`, {
      headers: { cookie: `sid=${'COOKIE'}-VALUE`, authorization: `Bearer ${'AUTH'}-VALUE`, 'proxy-authorization': `Basic ${'PROXY'}-VALUE`, 'x-probe': 'shown' },
    }))
    const html = await res.text()
    assert.match(html, /kaboom/)
    assert.match(html, /shown/)
    assert.match(html, /<th>cookie<\/th><td>\(masked/)
    assert.doesNotMatch(html, new RegExp(['COOKIE', 'AUTH', 'PROXY'].map((w) => `${w}-VALUE`).join('|')))
  })
})
