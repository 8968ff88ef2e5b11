import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { WebSocket } from 'ws'
import { Carafe } from '../../src/index.js'
import { requireLogin } from '../../src/auth/index.js'
import { rawRequest, serve } from '../helpers/server.js'
import { start, user, type User } from '../auth/helpers.js'
import { closed, connect, fdCount, nextMessage, refusedWith, textFrame, until } from './helpers.js'

const wsUrl = (url: string, path: string): string => url.replace(/^http/, 'ws') + path

/** Silence the one-line logs of refused and cut sockets for the test, keeping them for assertions. */
function quiet(t: { after(fn: () => void): void }): string[] {
  const lines: string[] = []
  const real = console.error
  console.error = (...args: unknown[]) => { lines.push(args.map(String).join(' ')) }
  t.after(() => { console.error = real })
  return lines
}

describe('app.ws()', () => {
  it('echoes with typed params, query and JSON', async (t) => {
    const app = new Carafe()
    app.ws('/echo/<int:n>', {
      open(ws, c) {
        const n: number = c.params.n
        ws.json({ n, q: c.query('q') ?? null })
      },
      message(ws, data) { ws.send({ got: data, binary: typeof data !== 'string' }) },
    })
    const s = await serve(t, app)
    const ws = await connect(wsUrl(s.url, '/echo/7?q=x'))
    assert.deepEqual(JSON.parse(await nextMessage(ws)), { n: 7, q: 'x' })
    ws.send('héllo')
    assert.deepEqual(JSON.parse(await nextMessage(ws)), { got: 'héllo', binary: false })
    ws.close()
    await closed(ws)
  })

  it('answers 404 over HTTP for a path with no WebSocket route, and 426 to a plain GET of one', async (t) => {
    quiet(t)
    const app = new Carafe()
    app.ws('/chat', { message() {} })
    app.get('/page', () => 'page')
    const s = await serve(t, app)
    assert.equal(await refusedWith(wsUrl(s.url, '/nope')), 404)
    assert.equal(await refusedWith(wsUrl(s.url, '/page')), 404)
    assert.equal((await fetch(s.url + '/chat')).status, 426)
    // The canonical path: the route is found however its path is spelled.
    const ws = await connect(wsUrl(s.url, '/%63hat'))
    ws.terminate()
  })

  it('decides a prefix guard on the path the WebSocket route sees, however it is spelled', async (t) => {
    quiet(t)
    const app = new Carafe()
    app.use('/admin', async (c, next) => {
      if (c.req.header('x-key') !== 'k') return c.text('no', 401)
      return next()
    })
    app.ws('/admin/live', { open(ws) { ws.send('in') } })
    const s = await serve(t, app)
    for (const path of ['/admin/live', '//admin/live', '/%61dmin/live', '/admin//live', '/ADMIN/live']) {
      const status = await refusedWith(wsUrl(s.url, path))
      assert.ok(status === 401 || status === 404, `${path}: ${status}`)
    }
    // A WHATWG URL (the ws client's) resolves %2e%2e itself: send this one raw.
    const raw = await rawRequest(s.port, `GET /x/%2e%2e/admin/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    assert.match(raw, /^HTTP\/1\.1 400 /)
    const ws = await connect(wsUrl(s.url, '/%61dmin/live'), { headers: { 'x-key': 'k' } })
    assert.equal(await nextMessage(ws), 'in')
    ws.terminate()
  })

  it('runs the middleware first: a guard refuses with its HTTP answer, a logged-in user is c.user in open()', async (t) => {
    quiet(t)
    const opened: unknown[] = []
    const s = await start(t, {
      users: [user(1)],
      setup(app) {
        app.ws('/private', requireLogin(), {
          open(ws, c) {
            opened.push((c.user as User).id)
            ws.send(`hi ${(c.user as User).id}`)
          },
        })
      },
    })
    const status = await refusedWith(wsUrl(s.url, '/private'))
    assert.ok(status === 401 || status === 302, `got ${status}`)
    assert.deepEqual(opened, [])
    const b = s.browser()
    assert.equal((await b.post('/login/1')).status, 200)
    const ws = await connect(wsUrl(s.url, '/private'), { headers: { cookie: b.jar.header() } })
    assert.equal(await nextMessage(ws), 'hi 1')
    assert.deepEqual(opened, [1])
    ws.terminate()
  })

  it('refuses a cross-site Origin with 403; allows its own, trustedOrigins and none', async (t) => {
    const logs = quiet(t)
    const app = new Carafe({ trustedOrigins: ['https://admin.example.com'] })
    app.ws('/ws', { open(ws) { ws.send('ok') } })
    const s = await serve(t, app)
    assert.equal(await refusedWith(wsUrl(s.url, '/ws'), { origin: 'https://evil.example' }), 403)
    assert.equal(await refusedWith(wsUrl(s.url, '/ws'), { origin: 'null' }), 403)
    assert.ok(logs.some((l) => l.includes('evil.example')))
    for (const origin of [s.url, 'https://admin.example.com', undefined]) {
      const ws = await connect(wsUrl(s.url, '/ws'), origin === undefined ? {} : { origin })
      assert.equal(await nextMessage(ws), 'ok')
      ws.terminate()
    }
  })

  it('closes with 1009 past maxPayload, and 1007 on a text frame that is not UTF-8', async (t) => {
    quiet(t)
    const app = new Carafe({ websocket: { maxPayload: 1024 } })
    const got: string[] = []
    app.ws('/ws', { message(_ws, data) { got.push(String(data)) } })
    const s = await serve(t, app)
    const big = await connect(wsUrl(s.url, '/ws'))
    big.send('x'.repeat(2000))
    assert.equal((await closed(big)).code, 1009)
    const bad = await connect(wsUrl(s.url, '/ws'))
    const done = closed(bad)
    ;(bad as unknown as { _socket: import('node:net').Socket })._socket.write(textFrame(Buffer.from([0x61, 0xff, 0xfe])))
    assert.equal((await done).code, 1007)
    assert.deepEqual(got, [])
    // Still serving.
    const ok = await connect(wsUrl(s.url, '/ws'))
    ok.send('fine')
    await until(() => got.length === 1)
    ok.terminate()
  })

  it('cuts a client that does not read once its send buffer passes maxBufferedAmount', async (t) => {
    const logs = quiet(t)
    const app = new Carafe({ websocket: { maxBufferedAmount: 256 * 1024 } })
    let refused = false
    let closeCode = 0
    app.ws('/firehose', {
      open(ws) {
        const chunk = Buffer.alloc(64 * 1024, 1)
        const pump = (): void => {
          if (!ws.send(chunk)) { refused = true; return }
          setImmediate(pump)
        }
        pump()
      },
      close(_ws, code) { closeCode = code },
    })
    const s = await serve(t, app)
    const ws = await connect(wsUrl(s.url, '/firehose'))
    ;(ws as unknown as { _socket: import('node:net').Socket })._socket.pause()
    await until(() => refused && closeCode !== 0, 10_000, 'the slow reader to be cut')
    assert.ok(logs.some((l) => l.includes('does not read')))
    ws.terminate()
  })

  it('terminates a peer that stops answering pings (heartbeat)', async (t) => {
    const logs = quiet(t)
    const app = new Carafe({ websocket: { heartbeat: 50 } })
    const codes: number[] = []
    app.ws('/ws', { close(_ws, code) { codes.push(code) } })
    const s = await serve(t, app)
    const alive = await connect(wsUrl(s.url, '/ws'))
    const dead = await connect(wsUrl(s.url, '/ws'))
    ;(dead as unknown as { _socket: import('node:net').Socket })._socket.pause()
    await until(() => codes.length === 1, 3000, 'the dead peer to be terminated')
    assert.equal(codes[0], 1006)
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(alive.readyState, alive.OPEN)
    assert.ok(logs.some((l) => l.includes('ping')))
    alive.terminate()
    dead.terminate()
  })

  it('closes the sockets of a session that logs out (1008), and of the other sessions on logoutOthers', async (t) => {
    const s = await start(t, {
      users: [user(1)],
      setup(app) { app.ws('/live', requireLogin(), {}) },
    })
    const a = s.browser()
    const b = s.browser()
    await a.post('/login/1')
    await b.post('/login/1')
    const wa = await connect(wsUrl(s.url, '/live'), { headers: { cookie: a.jar.header() } })
    const wa2 = await connect(wsUrl(s.url, '/live'), { headers: { cookie: a.jar.header() } })
    const wb = await connect(wsUrl(s.url, '/live'), { headers: { cookie: b.jar.header() } })
    const ca = closed(wa)
    const ca2 = closed(wa2)
    await a.post('/logout')
    assert.equal((await ca).code, 1008)
    assert.equal((await ca2).code, 1008)
    assert.equal(wb.readyState, wb.OPEN)
    // logoutOthers from a third session closes b's socket, not its own.
    const c3 = s.browser()
    await c3.post('/login/1')
    const w3 = await connect(wsUrl(s.url, '/live'), { headers: { cookie: c3.jar.header() } })
    const cb = closed(wb)
    await c3.post('/password/1')
    assert.equal((await cb).code, 1008)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(w3.readyState, w3.OPEN)
    w3.terminate()
  })

  it("sends 1001 to every socket on the server's close()", async (t) => {
    const app = new Carafe()
    app.ws('/ws', {})
    const s = await serve(t, app)
    const one = await connect(wsUrl(s.url, '/ws'))
    const two = await connect(wsUrl(s.url, '/ws'))
    const seen = Promise.all([closed(one), closed(two)])
    const t0 = Date.now()
    await s.close()
    assert.deepEqual((await seen).map((x) => x.code), [1001, 1001])
    assert.ok(Date.now() - t0 < 5000)
  })

  it('refuses upgrades past maxConnections with 503', async (t) => {
    quiet(t)
    const app = new Carafe({ websocket: { maxConnections: 1 } })
    app.ws('/ws', {})
    const s = await serve(t, app)
    const first = await connect(wsUrl(s.url, '/ws'))
    assert.equal(await refusedWith(wsUrl(s.url, '/ws')), 503)
    first.close()
    await closed(first)
    await until(() => app.realtime().size === 0)
    const again = await connect(wsUrl(s.url, '/ws'))
    again.terminate()
  })

  it('delivers app.publish() to the sockets subscribed to the topic', async (t) => {
    const app = new Carafe()
    app.ws('/room/<name>', {
      open(ws, c) {
        ws.subscribe(c.params.name)
        ws.send('joined')
      },
      message(_ws, data, c) { app.publish(c.params.name, { text: String(data) }) },
    })
    const s = await serve(t, app)
    const join = async (room: string): Promise<WebSocket> => {
      const ws = await connect(wsUrl(s.url, `/room/${room}`))
      assert.equal(await nextMessage(ws), 'joined')
      return ws
    }
    const a = await join('x')
    const b = await join('x')
    const other = await join('y')
    const got: string[] = []
    other.on('message', (d) => got.push(String(d)))
    const pb = nextMessage(b)
    const pa = nextMessage(a)
    a.send('hi')
    assert.deepEqual(JSON.parse(await pb), { text: 'hi' })
    assert.deepEqual(JSON.parse(await pa), { text: 'hi' })
    app.publish('x', 'plain')
    assert.equal(await nextMessage(b), 'plain')
    assert.deepEqual(got, [])
    for (const ws of [a, b, other]) ws.terminate()
  })

  it('keeps serving through a flood of messages, and gives back every fd once the sockets close', async (t) => {
    const app = new Carafe()
    let count = 0
    app.ws('/ws', { message() { count++ } })
    app.get('/ping', () => 'pong')
    const s = await serve(t, app)
    // Warm up the loaded modules and the server's own descriptors before counting.
    const warm = await connect(wsUrl(s.url, '/ws'))
    warm.close()
    await closed(warm)
    await until(() => app.realtime().size === 0)
    // fetch() keeps its connection alive: open it now, so the count includes it.
    assert.equal(await (await fetch(s.url + '/ping')).text(), 'pong')
    const base = fdCount()
    const socks = await Promise.all(Array.from({ length: 20 }, () => connect(wsUrl(s.url, '/ws'))))
    assert.ok(fdCount() >= base + 20)
    for (let i = 0; i < 5000; i++) socks[0]!.send('m')
    assert.equal(await (await fetch(s.url + '/ping')).text(), 'pong')
    await until(() => count === 5000, 5000, 'the flood to arrive')
    await Promise.all(socks.map((ws) => { const p = closed(ws); ws.close(); return p }))
    await until(() => app.realtime().size === 0)
    await until(() => fdCount() <= base, 3000, `fds back to ${base} (now ${fdCount()})`)
  })
})

describe('carafe and ws', () => {
  it("does not load ws on import 'carafe', nor on listen(), only at the first upgrade", async () => {
    const { execFileSync } = await import('node:child_process')
    const index = new URL('../../src/index.js', import.meta.url).href
    const script = `
      import { createRequire } from 'node:module'
      const { Carafe } = await import(${JSON.stringify(index)})
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/ws/'))
      const app = new Carafe()
      app.ws('/ws', {})
      const s = await app.listen({ host: '127.0.0.1', port: 0 })
      const before = loaded()
      await s.close()
      console.log(JSON.stringify({ before }))`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    assert.deepEqual(JSON.parse(out.trim()), { before: false })
  })
})

/** Type-level checks (compiled, never run): params typed from the pattern, middleware before the handlers, typed socket state. */
export function typeChecks(app: Carafe): void {
  app.ws('/t/<int:id>/<name>', {
    open(ws, c) {
      const id: number = c.params.id
      const name: string = c.params.name
      // @ts-expect-error: no such parameter in the pattern
      void c.params.nope
      ws.send(`${id} ${name}`)
    },
  })
  app.ws('/guarded/:room', requireLogin(), { message(_ws, data, c) { const room: string = c.params.room; void data; void room } })
  app.ws<'/state', { count: number }>('/state', { message(ws) { ws.data.count++ } })
  // @ts-expect-error: the handlers come last
  app.ws('/bad', {}, requireLogin())
}
