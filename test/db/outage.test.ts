import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Kysely } from 'kysely'
import { Carafe } from '../../src/index.js'
import { database, sql, type Database, type DatabaseOptions } from '../../src/db/index.js'
import { serve } from '../helpers/server.js'
import { SERVICES, needService, type ServiceName } from '../helpers/services.js'
import { TcpProxy } from './proxy.js'

interface Server {
  name: string
  service: ServiceName
  /** The URL of the service at `host:port`. */
  url(hostPort: string): string
  /** SQL that ends the connection with this id, and SQL that gives the current connection's id. */
  kill(id: number): string
  whoami: string
}

const SERVERS: Server[] = [
  { name: 'PostgreSQL', service: 'postgres', url: (hp) => `postgres://postgres@${hp}/test`, kill: (id) => `select pg_terminate_backend(${id})`, whoami: 'select pg_backend_pid() as id' },
  { name: 'MariaDB', service: 'mariadb', url: (hp) => `mysql://root@${hp}/test`, kill: (id) => `kill ${id}`, whoami: 'select connection_id() as id' },
]

/** Try `ok` until it holds (every 100 ms, at most `ms`). */
async function until(ok: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await ok()) return true
    await sleep(100)
  }
  return false
}

/** Keep console.error's lines (the plugin logs each outage) for the test, quietly. */
function captureLog(t: TestContext): () => string {
  const original = console.error
  let logged = ''
  console.error = (...a: unknown[]) => { logged += a.map((x) => (x instanceof Error ? x.message : String(x))).join(' ') + '\n' }
  t.after(() => { console.error = original })
  return () => logged
}

function appFor(db: Database<unknown>): Carafe {
  const app = new Carafe()
  app.use(db.middleware())
  app.get('/ping', async (c) => (await sql<{ one: number }>`select 1 as one`.execute(c.db as Kysely<unknown>)).rows.map((r) => ({ one: Number(r.one) }))[0])
  app.get('/plain', () => 'no database needed')
  return app
}

async function openDb(t: TestContext, url: string, options: DatabaseOptions): Promise<Database<unknown>> {
  const db = database<unknown>(url, options)
  t.after(() => db.close())
  return db
}

const json = { headers: { accept: 'application/json' } }

for (const server of SERVERS) {
  describe(`carafe/db when ${server.name} goes away`, () => {
    it('answers 503 with a clear message while it is down, keeps serving other routes, and recovers without a restart', async (t) => {
      if (!(await needService(t, server.service))) return
      const logged = captureLog(t)
      const proxy = new TcpProxy(SERVICES[server.service])
      await proxy.start()
      t.after(() => proxy.cut())
      const db = await openDb(t, server.url(proxy.url), { acquireTimeout: 1000 })
      const s = await serve(t, appFor(db))
      assert.deepEqual(await (await fetch(`${s.url}/ping`, json)).json(), { one: 1 })

      await proxy.cut()
      const down = await fetch(`${s.url}/ping`, json)
      assert.equal(down.status, 503)
      assert.equal(down.headers.get('retry-after'), '5')
      assert.deepEqual(await down.json(), { error: 'Service Unavailable', status: 503, message: 'the database is unavailable right now; please try again in a moment' })
      const plain = await fetch(`${s.url}/plain`)
      assert.equal(plain.status, 200)
      assert.equal(await plain.text(), 'no database needed')
      assert.match(logged(), /database is unavailable|connection failed/)

      await proxy.restore()
      assert.ok(await until(async () => (await fetch(`${s.url}/ping`, json)).status === 200), 'answers again once the database is back')
      assert.deepEqual(await (await fetch(`${s.url}/ping`, json)).json(), { one: 1 })
    })

    it('answers 503 after acquireTimeout when the database accepts connections and never answers', async (t) => {
      if (!(await needService(t, server.service))) return
      captureLog(t)
      const proxy = new TcpProxy(SERVICES[server.service])
      await proxy.start()
      t.after(() => proxy.cut())
      await proxy.hang()
      const db = await openDb(t, server.url(proxy.url), { acquireTimeout: 300 })
      const s = await serve(t, appFor(db))
      const started = Date.now()
      const res = await fetch(`${s.url}/ping`, json)
      const waited = Date.now() - started
      assert.equal(res.status, 503)
      await res.body?.cancel()
      assert.ok(waited >= 250 && waited < 5000, `waited ${waited} ms`)
      await proxy.restore()
      assert.ok(await until(async () => (await fetch(`${s.url}/ping`, json)).status === 200), 'answers again once the network is back')
    })

    it('makes a request wait at most acquireTimeout for a pool held full, then answers 503', async (t) => {
      if (!(await needService(t, server.service))) return
      captureLog(t)
      const db = await openDb(t, SERVICES[server.service].url, { poolSize: 1, acquireTimeout: 300 })
      let release!: () => void
      const held = new Promise<void>((resolve) => { release = resolve })
      let inside = false
      let entered!: () => void
      const holding = new Promise<void>((resolve) => { entered = resolve })
      const app = appFor(db)
      app.post('/hold', () => db.transaction(async (tx) => {
        await sql`select 1`.execute(tx)
        inside = true
        entered()
        await held
        return 'held'
      }))
      const s = await serve(t, app)
      const hold = fetch(`${s.url}/hold`, { method: 'POST' })
      await Promise.race([holding, hold.then(async (r) => { if (!inside) throw new Error(`/hold ended before holding the connection: ${r.status} ${await r.text()}`) })])
      const started = Date.now()
      const res = await fetch(`${s.url}/ping`, json)
      const waited = Date.now() - started
      assert.equal(res.status, 503)
      assert.match(((await res.json()) as { message: string }).message, /database is unavailable/)
      assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms`)
      release()
      assert.equal(await (await hold).text(), 'held')
      assert.deepEqual(await (await fetch(`${s.url}/ping`, json)).json(), { one: 1 })
    })

    it('survives the server ending an idle pooled connection, and replaces it', async (t) => {
      if (!(await needService(t, server.service))) return
      const logged = captureLog(t)
      const db = await openDb(t, SERVICES[server.service].url, { poolSize: 1 })
      const admin = await openDb(t, SERVICES[server.service].url, { poolSize: 1 })
      const app = appFor(db)
      app.get('/whoami', async (c) => ({ id: Number((await sql<{ id: number | string }>`${sql.raw(server.whoami)}`.execute(c.db as Kysely<unknown>)).rows[0]!.id) }))
      const s = await serve(t, app)
      const { id } = (await (await fetch(`${s.url}/whoami`)).json()) as { id: number }
      // The pool's one connection is idle now; end it from another connection.
      await sql`${sql.raw(server.kill(id))}`.execute(admin.kysely)
      assert.ok(await until(async () => /connection failed/.test(logged())), `the pool saw the idle connection fail:\n${logged()}`)
      // Still alive (an unhandled 'error' event would have ended this process), with a new connection.
      assert.ok(await until(async () => (await fetch(`${s.url}/ping`, json)).status === 200))
      const again = (await (await fetch(`${s.url}/whoami`)).json()) as { id: number }
      assert.notEqual(again.id, id)
    })
  })
}
