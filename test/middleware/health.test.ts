import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { Carafe, health } from '../../src/index.js'
import { database } from '../../src/db/index.js'
import { serve } from '../helpers/server.js'

/** An app with health() whose log lines are kept (failed checks are logged). */
function healthApp(options: Parameters<typeof health>[0] = {}): { app: Carafe; lines: string[] } {
  const lines: string[] = []
  const app = new Carafe({ logger: { write: (l) => lines.push(l) } })
  app.use(health(options))
  app.get('/', () => 'home')
  return { app, lines }
}

describe('health()', () => {
  it('answers /healthz with 200 {"status":"ok"} over HTTP, uncached', async (t) => {
    const { app } = healthApp()
    const s = await serve(t, app)
    const res = await fetch(`${s.url}/healthz`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { status: 'ok' })
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal((await fetch(`${s.url}/readyz`)).status, 200)
  })

  it('answers /readyz with 503 until startup has finished, then 200', async () => {
    const { app } = healthApp()
    let res = await app.request('/readyz')
    assert.equal(res.status, 503)
    assert.deepEqual(await res.json(), { status: 'starting' })
    assert.equal(app.started, false)
    await app.startup()
    assert.equal(app.started, true)
    res = await app.request('/readyz')
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { status: 'ready', checks: {} })
  })

  it('answers /readyz with 503 while the server drains, on a connection already open', async (t) => {
    const { app } = healthApp()
    const server = await app.listen({ host: '127.0.0.1', port: 0, shutdownTimeout: 2000 })
    t.after(() => server.close())
    const socket = connect(server.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    // A request head half sent keeps the connection busy, so draining does not close it.
    socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    // The server must have read the half head before it drains (else the connection is idle and closed).
    await new Promise((resolve) => setTimeout(resolve, 50))
    const closed = server.close()
    assert.equal(app.draining, true)
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    const ended = new Promise((resolve) => socket.once('close', resolve))
    socket.write('\r\n')
    await ended
    await closed
    const text = Buffer.concat(chunks).toString('utf8')
    assert.match(text, /^HTTP\/1\.1 503 /)
    assert.match(text, /\{"status":"draining"\}/)
  })

  it('checks the database of carafe/db: 200 when it answers select 1', async () => {
    const { app } = healthApp()
    const db = database('sqlite::memory:')
    app.use(db.middleware())
    await app.startup()
    try {
      const res = await app.request('/readyz')
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { status: 'ready', checks: { db: 'ok' } })
    } finally {
      await app.shutdown()
    }
  })

  it('answers 503 naming the database when it cannot be reached, and logs why', async () => {
    const { app, lines } = healthApp()
    // Nothing listens on port 1: the connection is refused at once.
    const db = database('postgres://postgres@127.0.0.1:1/test')
    app.use(db.middleware())
    await app.startup()
    try {
      const res = await app.request('/readyz')
      assert.equal(res.status, 503)
      assert.deepEqual(await res.json(), { status: 'unavailable', checks: { db: 'failed' } })
      const line = JSON.parse(lines.find((l) => l.includes('readiness check failed'))!) as { check: string; error: { message: string } }
      assert.equal(line.check, 'db')
      assert.match(line.error.message, /ECONNREFUSED/)
    } finally {
      await app.shutdown()
    }
  })

  it('runs its own checks: a throwing one fails, a slow one times out', async () => {
    const { app } = healthApp({
      timeout: 50,
      checks: {
        cache: () => {},
        queue: async () => { throw new Error('queue down') },
        search: () => new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      },
    })
    await app.startup()
    const res = await app.request('/readyz')
    assert.equal(res.status, 503)
    assert.deepEqual(await res.json(), { status: 'unavailable', checks: { cache: 'ok', queue: 'failed', search: 'timeout' } })
  })

  it('takes other paths, and a prefix from app.use(prefix, health())', async () => {
    const app = new Carafe()
    app.use('/ops', health({ path: '/live', readyPath: '/ready' }))
    await app.startup()
    assert.equal((await app.request('/ops/live')).status, 200)
    assert.equal((await app.request('/ops/ready')).status, 200)
    assert.equal((await app.request('/healthz')).status, 404)
  })
})
