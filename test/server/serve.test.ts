import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { Carafe } from '../../src/index.js'
import { rawRequest, serve } from '../helpers/server.js'

function hello(): Carafe {
  const app = new Carafe()
  app.get('/', () => 'ok')
  return app
}

async function stillServes(url: string): Promise<void> {
  const res = await fetch(url + '/')
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'ok')
}

describe('Node server limits', () => {
  it('answers oversized headers with 431 and keeps serving', async (t) => {
    const s = await serve(t, hello(), { maxHeaderSize: 8192 })
    const out = await rawRequest(s.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`)
    assert.match(out, /^HTTP\/1\.1 431 /)
    assert.match(out, /headers are larger/)
    await stillServes(s.url)
  })

  it('answers a too-long URL with 414 and keeps serving', async (t) => {
    const s = await serve(t, hello(), { maxUrlLength: 1000 })
    const res = await fetch(`${s.url}/${'x'.repeat(2000)}`)
    assert.equal(res.status, 414)
    await stillServes(s.url)
  })

  it('answers a malformed request with 400, closes that connection, keeps serving', async (t) => {
    const s = await serve(t, hello())
    const out = await rawRequest(s.port, 'THIS IS NOT HTTP\r\n\r\n')
    assert.match(out, /^HTTP\/1\.1 400 Bad Request/)
    assert.match(out, /connection: close/i)
    const bad = await rawRequest(s.port, 'GET nopath HTTP/1.1\r\nHost: x\r\n\r\n')
    assert.match(bad, /^HTTP\/1\.1 400 /)
    await stillServes(s.url)
  })

  it('cuts off headers that trickle in with 408', async (t) => {
    const s = await serve(t, hello(), { headersTimeout: 500 })
    const started = Date.now()
    const out = await new Promise<string>((resolve, reject) => {
      let data = ''
      const socket = net.connect(s.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'))
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 100)
      socket.on('data', (d) => { data += d.toString() })
      socket.on('close', () => { clearInterval(drip); resolve(data) })
      socket.on('error', (e) => { clearInterval(drip); reject(e) })
      setTimeout(() => socket.destroy(), 5000)
    })
    assert.match(out, /^HTTP\/1\.1 408 /)
    assert.ok(Date.now() - started < 4000, 'cut off in time')
    await stillServes(s.url)
  })

  it('refuses a body over the limit with 413 by Content-Length and closes the connection', async (t) => {
    const app = new Carafe({ bodyLimit: 100 })
    app.post('/', async (c) => (await c.req.text()).length)
    const s = await serve(t, app)
    const out = await rawRequest(s.port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${'a'.repeat(1000)}`)
    assert.match(out, /^HTTP\/1\.1 413 /)
    assert.match(out, /connection: close/i)
    const ok = await fetch(s.url, { method: 'POST', body: 'abc' })
    assert.equal(await ok.text(), '3')
  })

  it('drains gracefully: in-flight requests finish, idle keep-alive sockets close, new connections are refused', async (t) => {
    const app = new Carafe()
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    let entered!: () => void
    const inHandler = new Promise<void>((r) => { entered = r })
    app.get('/slow', async () => { entered(); await gate; return 'finished' })
    app.get('/', () => 'ok')
    let shutdownRan = false
    app.onShutdown(() => { shutdownRan = true })
    const server = await app.listen({ host: '127.0.0.1', port: 0, shutdownTimeout: 5000 })
    t.after(() => server.close())
    // an idle keep-alive connection
    const idle = net.connect(server.port, '127.0.0.1')
    await new Promise<void>((r) => idle.once('connect', () => r()))
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise<void>((r) => idle.once('data', () => r()))
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()))
    const slow = fetch(`http://127.0.0.1:${server.port}/slow`)
    await inHandler
    const closing = server.close()
    await idleClosed
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/`))
    release()
    const res = await slow
    assert.equal(await res.text(), 'finished')
    await closing
    assert.equal(shutdownRan, true)
  })

  it('forces connections closed after the shutdown timeout', async (t) => {
    const app = new Carafe()
    app.get('/hang', () => new Promise(() => {}))
    const server = await app.listen({ host: '127.0.0.1', port: 0, shutdownTimeout: 300 })
    t.after(() => server.close())
    const hung = fetch(`http://127.0.0.1:${server.port}/hang`).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 100))
    const started = Date.now()
    await server.close()
    assert.ok(Date.now() - started < 2000)
    assert.ok((await hung) instanceof Error)
  })
})

describe('Node door: responses written at the end of the turn', () => {
  function mixed(): Carafe {
    const app = new Carafe()
    app.get('/sync/<int:n>', (c) => `sync ${c.params.n}`)
    app.get('/async/<int:n>', async (c) => {
      await new Promise((r) => setTimeout(r, (c.params.n * 7) % 5))
      return { n: c.params.n }
    })
    app.get('/boom', () => { throw new Error('boom') })
    return app
  }

  it('keeps pipelined answers in order, sync and async mixed, with an error among them', async (t) => {
    const s = await serve(t, mixed())
    // A second, idle connection: with only one open, answers are not batched at all.
    const idle = net.connect(s.port, '127.0.0.1')
    await new Promise((r) => idle.once('connect', r))
    t.after(() => idle.destroy())
    const paths = ['/sync/1', '/async/2', '/boom', '/sync/3', '/async/4', '/sync/5']
    const raw = paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('') + 'GET /sync/6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    const out = await rawRequest(s.port, raw)
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
    assert.deepEqual(statuses, [200, 200, 500, 200, 200, 200, 200])
    const bodies = [...out.matchAll(/\r\n\r\n(sync \d|\{"n":\d\})/g)].map((m) => m[1])
    assert.deepEqual(bodies, ['sync 1', '{"n":2}', 'sync 3', '{"n":4}', 'sync 5', 'sync 6'])
  })

  it('gives each of 64 concurrent keep-alive clients its own answer', async (t) => {
    const s = await serve(t, mixed())
    const { Agent, request } = await import('node:http')
    const agent = new Agent({ keepAlive: true, maxSockets: 64 })
    t.after(() => agent.destroy())
    const get = (p: string): Promise<string> => new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port: s.port, path: p, agent }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve(body))
      }).on('error', reject).end()
    })
    for (let round = 0; round < 5; round++) {
      const ns = Array.from({ length: 64 }, (_, i) => round * 64 + i)
      const got = await Promise.all(ns.map((n) => get(n % 3 === 0 ? `/async/${n}` : `/sync/${n}`)))
      assert.deepEqual(got, ns.map((n) => (n % 3 === 0 ? JSON.stringify({ n }) : `sync ${n}`)))
    }
  })
})

describe('keep-alive behind a proxy', () => {
  it('keeps an idle keep-alive connection open past Node\'s 5 s default (65 s: longer than nginx\'s upstream keepalive_timeout), so a proxy reusing it gets an answer, not a reset', { timeout: 20_000 }, async () => {
    const app = new Carafe()
    app.get('/', () => 'ok')
    const server = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      assert.equal(server.server.keepAliveTimeout, 65_000)
      const socket = net.connect(server.port, '127.0.0.1')
      await new Promise((r) => socket.once('connect', r))
      const read = (): Promise<string> => new Promise((resolve) => socket.once('data', (d) => resolve(d.toString())))
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      assert.match(await read(), /^HTTP\/1.1 200[^]*keep-alive: timeout=65/i)
      let closed = false
      socket.once('close', () => { closed = true })
      await new Promise((r) => setTimeout(r, 6000))
      assert.equal(closed, false, 'still open after 6 s idle')
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      assert.match(await read(), /^HTTP\/1.1 200/)
      socket.destroy()
    } finally {
      await server.close()
    }
  })
})
