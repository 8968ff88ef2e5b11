import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Carafe, HttpError, type Middleware } from '../../src/index.js'
import { rawRequest, serve } from '../helpers/server.js'

/** One raw HTTP/1.1 request (target sent byte for byte), answered as status and body. */
async function raw(port: number, target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; text: string }> {
  const lines = Object.entries({ host: 'localhost', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  const text = await rawRequest(port, `GET ${target} HTTP/1.1\r\n${lines}\r\n`)
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
  assert.ok(m !== null, `${target}: no status line in ${JSON.stringify(text.slice(0, 80))}`)
  const head = text.slice(0, text.indexOf('\r\n\r\n'))
  const body = text.slice(head.length + 4)
  return { status: Number(m[1]), body: /\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(body) : body, text }
}

function dechunk(body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const eol = rest.indexOf('\r\n')
    const size = parseInt(rest.slice(0, eol), 16)
    if (!(size > 0)) return out
    out += rest.slice(eol + 2, eol + 2 + size)
    rest = rest.slice(eol + 2 + size + 2)
  }
}

const deny: Middleware = function deny() {
  throw new HttpError(403, 'guarded')
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'carafe-guards-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe('prefix guards decide on the canonical path', () => {
  it('guard the route in every spelling of the prefix (Node door, raw targets)', async (t) => {
    const app = new Carafe()
    app.use('/admin', deny)
    app.get('/admin/users', () => 'secret users')
    app.get('/<page>', (c) => `page ${c.params.page}`)
    const { port } = await serve(t, app)
    for (const target of ['/admin/users', '/%61dmin/users', '/admi%6E/users', '/%61%64%6d%69%6e/users', '//admin/users', '/admin//users', 'http://localhost/%61dmin/users', 'HTTP://x:1/admi%6e/users']) {
      const res = await raw(port, target)
      assert.equal(res.status, 403, target)
      assert.ok(!res.body.includes('secret'), target)
    }
    // Dot segments are refused before routing, in every spelling.
    for (const target of ['/x/../admin/users', '/admin/./users', '/x/%2e%2e/admin/users', '/x/.%2E/admin/users', '/admin/users/.', 'http://localhost/x/../admin/users']) {
      const res = await raw(port, target)
      assert.equal(res.status, 400, target)
      assert.match(res.body, /"\." or "\.\." segment/, target)
    }
    // An encoded "/" stays inside its segment: one segment "admin/users", which no guard and no route of /admin sees.
    const enc = await raw(port, '/admin%2fusers')
    assert.equal(enc.status, 200)
    assert.equal(enc.body, 'page admin/users')
    assert.equal((await raw(port, '/administrator')).body, 'page administrator')
  })

  it('guard the route through the Fetch door too (it does not rely on WHATWG resolving the path)', async () => {
    const app = new Carafe()
    app.use('/admin', deny)
    app.get('/admin/users', () => 'secret users')
    for (const p of ['/admin/users', '/%61dmin/users', '/admi%6E/users', '//admin/users', '/x/../admin/users', '/x/%2e%2e/admin/users']) {
      const res = await app.fetch(new Request(`http://localhost${p}`))
      assert.equal(res.status, 403, p)
    }
    const res = await app.fetch(new Request('http://localhost/admin/users#frag'))
    assert.equal(res.status, 403)
  })

  it('guard a folder of app.static() in every spelling; encoded separators name no file', async (t) => {
    const dir = await tempDir(t)
    await mkdir(path.join(dir, 'private'))
    await writeFile(path.join(dir, 'private', 's.txt'), 'TOP SECRET')
    await writeFile(path.join(dir, 'open.txt'), 'open')
    const app = new Carafe({ root: dir })
    app.use('/files/private', deny)
    app.static('/files', '.')
    const { port } = await serve(t, app)
    assert.equal((await raw(port, '/files/open.txt')).body, 'open')
    assert.equal((await raw(port, '/%66iles/open.txt')).body, 'open')
    for (const target of ['/files/private/s.txt', '/files/%70rivate/s.txt', '/%66iles/private/s.txt', '/files//private/s.txt', '//files/private/s.txt', '/files/privat%65/s.txt']) {
      const res = await raw(port, target)
      assert.equal(res.status, 403, target)
      assert.ok(!res.text.includes('TOP SECRET'), target)
    }
    for (const target of ['/files/private%2fs.txt', '/files/private%2Fs.txt', '/files/private%5cs.txt', '/files/private\\s.txt', '/files/private%00s.txt']) {
      const res = await raw(port, target)
      assert.equal(res.status, 404, target)
      assert.ok(!res.text.includes('TOP SECRET'), target)
    }
    for (const target of ['/files/./private/s.txt', '/files/x/../private/s.txt', '/files/%2e/private/s.txt']) {
      assert.equal((await raw(port, target)).status, 400, target)
    }
  })

  it('guard inside a mounted Carafe app, which sees its own path however the prefix was spelled', async (t) => {
    const sub = new Carafe()
    sub.use('/admin', deny)
    sub.get('/admin/x', () => 'secret')
    sub.get('/where', (c) => ({ path: c.path, reqPath: c.req.path, base: c.basePath, segments: c.pathSegments() }))
    sub.get('/', (c) => `sub root ${c.path}`)
    const app = new Carafe()
    app.mount('/sub', sub)
    app.get('/after', (c) => c.path)
    const { port } = await serve(t, app)
    for (const target of ['/sub/admin/x', '/sub/%61dmin/x', '/%73ub/admin/x', '/%73%75%62/%61dmin/x', '//sub//admin/x']) {
      assert.equal((await raw(port, target)).status, 403, target)
    }
    const where = JSON.parse((await raw(port, '/%73ub/wh%65re')).body)
    assert.deepEqual(where, { path: '/where', reqPath: '/%73ub/wh%65re', base: '/sub', segments: ['where'] })
    assert.equal((await raw(port, '/sub')).body, 'sub root /')
    assert.equal((await raw(port, '/sub/')).body, 'sub root /')
    assert.equal((await raw(port, '/sub/a%2fb')).status, 404)
    assert.equal((await raw(port, '/after')).body, '/after')
  })
})

describe('mounted Fetch handlers', () => {
  function echoApp(): Carafe {
    const app = new Carafe()
    app.use('/fsub/admin', deny)
    app.mount('/fsub', (req: Request) => {
      const u = new URL(req.url)
      return new Response(`${u.host} ${u.pathname}${u.search}`)
    })
    return app
  }

  it('see exactly the path that was routed, and guards in front of them hold', async (t) => {
    const { port } = await serve(t, echoApp())
    for (const target of ['/fsub/admin', '/fsub/%61dmin', '/fsub/admin/', '/fsub//admin', '/%66sub/admin']) {
      assert.equal((await raw(port, target)).status, 403, target)
    }
    for (const target of ['/fsub/x/../admin', '/fsub/%2e%2e/fsub/admin', '/fsub/.%2e/fsub/admin']) {
      assert.equal((await raw(port, target)).status, 400, target)
    }
    assert.equal((await raw(port, '/fsub/open%20x?q=1')).body, 'localhost /open%20x?q=1')
    assert.equal((await raw(port, '/%66sub/%6Fpen')).body, 'localhost /open')
    assert.equal((await raw(port, '/fsub/%25zz')).body, 'localhost /%25zz')
    assert.equal((await raw(port, '/fsub')).body, 'localhost /')
    for (const target of ['/fsub/a%2fadmin', '/fsub/a%5cb', '/fsub/a\\b', '/fsub/a%00']) {
      assert.equal((await raw(port, target)).status, 404, target)
    }
  })

  it('never get a URL built from an invalid Host: that is a 400', async (t) => {
    const { port } = await serve(t, echoApp())
    for (const host of ['evil/fsub/admin', 'x#', 'a b', 'u@evil.example', 'x/', 'x\\y', 'x:port']) {
      const res = await raw(port, '/fsub/open', { host })
      assert.equal(res.status, 400, host)
      assert.match(res.body, /Host header/, host)
    }
    assert.equal((await raw(port, 'http://u@evil.example/fsub/open')).status, 400)
    // Two Host headers (RFC 9112 §3.2): a proxy may have routed on the second.
    const twice = await rawRequest(port, 'GET /fsub/open HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n')
    assert.match(twice, /^HTTP\/1\.1 400 [\s\S]*more than one Host header/)
    assert.equal((await raw(port, '/fsub/open', { host: 'example.com:8080' })).body, 'example.com:8080 /open')
    assert.equal((await raw(port, '/fsub/open', { host: '[::1]:8080' })).body, '[::1]:8080 /open')
    // The absolute form's authority replaces Host (RFC 9112 §3.2.2).
    assert.equal((await raw(port, 'http://other.example/fsub/open', { host: 'x' })).body, 'other.example /open')
  })
})

describe('trustProxy', () => {
  function probe(options: ConstructorParameters<typeof Carafe>[0]): Carafe {
    const app = new Carafe(options)
    app.get('/', (c) => ({ ip: c.req.ip, protocol: c.req.protocol, host: c.req.host, origin: c.req.origin, url: c.req.url }))
    return app
  }
  const spoof = { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' }

  it('believes nothing by default: a client cannot spoof its address, scheme or host', async (t) => {
    const { port } = await serve(t, probe({}))
    const info = JSON.parse((await raw(port, '/', spoof)).body)
    assert.deepEqual(info, { ip: '127.0.0.1', protocol: 'http', host: 'localhost', origin: 'http://localhost', url: 'http://localhost/' })
  })

  it('true trusts one hop: the rightmost forwarded address, the nearest proxy\'s scheme and host', async (t) => {
    const { port } = await serve(t, probe({ trustProxy: true }))
    const info = JSON.parse((await raw(port, '/', { ...spoof, 'x-forwarded-proto': 'http, https' })).body)
    assert.deepEqual(info, { ip: '203.0.113.5', protocol: 'https', host: 'public.example', origin: 'https://public.example', url: 'https://public.example/' })
    // A junk forwarded host is ignored, never put into a URL.
    const junk = JSON.parse((await raw(port, '/', { 'x-forwarded-host': 'evil/x#' })).body)
    assert.equal(junk.host, 'localhost')
    assert.equal(junk.ip, '127.0.0.1')
  })

  it('a hop count trusts that many proxies and no more', async (t) => {
    const { port } = await serve(t, probe({ trustProxy: 2 }))
    const info = JSON.parse((await raw(port, '/', { 'x-forwarded-for': '6.6.6.6, 198.51.100.1, 10.0.0.2' })).body)
    assert.equal(info.ip, '198.51.100.1')
    const short = JSON.parse((await raw(port, '/', { 'x-forwarded-for': '198.51.100.7' })).body)
    assert.equal(short.ip, '198.51.100.7')
  })

  it('a list of addresses and CIDRs skips only those proxies', async (t) => {
    const { port } = await serve(t, probe({ trustProxy: ['loopback', '10.0.0.0/8'] }))
    const info = JSON.parse((await raw(port, '/', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5, 10.1.2.3', 'x-forwarded-proto': 'https' })).body)
    assert.equal(info.ip, '203.0.113.5')
    assert.equal(info.protocol, 'https')
    const untrusted = await serve(t, probe({ trustProxy: '10.0.0.0/8, 192.168.0.0/16' }))
    const none = JSON.parse((await raw(untrusted.port, '/', spoof)).body)
    assert.deepEqual([none.ip, none.protocol, none.host], ['127.0.0.1', 'http', 'localhost'])
    assert.throws(() => new Carafe({ trustProxy: ['10.0.0.0/99'] }), /bad prefix length/)
    assert.throws(() => new Carafe({ trustProxy: ['my-proxy'] }), /not an IP address/)
  })

  it('reads RFC 7239 Forwarded when told to, and then ignores X-Forwarded-*', async (t) => {
    const { port } = await serve(t, probe({ trustProxy: true, proxyHeaders: 'forwarded' }))
    const info = JSON.parse((await raw(port, '/', { ...spoof, forwarded: 'for=6.6.6.6, for="[2001:db8::7]:4711";proto=https;host=shop.example' })).body)
    assert.deepEqual([info.ip, info.protocol, info.host], ['2001:db8::7', 'https', 'shop.example'])
  })
})

describe('allowedHosts and trustedOrigins', () => {
  it('refuses other Host values with 400, ports ignored, subdomains with a leading dot', async (t) => {
    const app = new Carafe({ allowedHosts: ['example.com', '.example.org', 'localhost'] })
    app.get('/', (c) => c.req.hostname)
    const { port } = await serve(t, app)
    for (const host of ['example.com', 'example.com:8080', 'EXAMPLE.com', 'example.org', 'a.b.example.org', 'localhost:1']) {
      const res = await raw(port, '/', { host })
      assert.equal(res.status, 200, host)
    }
    for (const host of ['evil.example', 'example.com.evil.example', 'notexample.org', '127.0.0.1']) {
      const res = await raw(port, '/', { host })
      assert.equal(res.status, 400, host)
      assert.match(res.body, /allowedHosts/)
    }
    assert.equal((await app.request('http://evil.example/')).status, 400)
    assert.throws(() => new Carafe({ allowedHosts: ['https://example.com'] }), /not a host name/)
  })

  it('normalizes trusted origins and refuses anything that is not an origin', () => {
    const app = new Carafe({ trustedOrigins: ['https://Admin.Example.com', 'http://localhost:8080/'] })
    assert.deepEqual(app.requestSettings.trustedOrigins, ['https://admin.example.com', 'http://localhost:8080'])
    for (const bad of ['admin.example.com', 'https://x.example/path', 'ftp://x.example', 'https://u:p@x.example']) {
      assert.throws(() => new Carafe({ trustedOrigins: [bad] }), /trustedOrigins/, bad)
    }
  })
})
