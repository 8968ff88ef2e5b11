import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Carafe } from '../../src/index.js'
import { database, sql, type Database } from '../../src/db/index.js'
import { serve } from '../helpers/server.js'
import { SERVICES, needService } from '../helpers/services.js'
import { ROOT } from '../helpers/spawn.js'
import { dbConformance, type AnyDB } from './conformance.js'

async function tempDir(t: TestContext): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), 'carafe-db-')))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

dbConformance({ name: 'SQLite (file)', open: async (t) => database<AnyDB>(`sqlite:${path.join(await tempDir(t), 'app.db')}`) })
dbConformance({ name: 'SQLite (memory)', open: async () => database<AnyDB>('sqlite::memory:') })
dbConformance({ name: 'PostgreSQL', open: async (t) => ((await needService(t, 'postgres')) ? database<AnyDB>(SERVICES.postgres.url) : undefined) })
dbConformance({ name: 'MariaDB', open: async (t) => ((await needService(t, 'mariadb')) ? database<AnyDB>(SERVICES.mariadb.url) : undefined) })

describe('carafe/db on SQLite', () => {
  it('resolves a relative path against the app root, not the working directory', async (t) => {
    const root = await tempDir(t)
    const db = database<AnyDB>('sqlite:data/app.db')
    t.after(() => db.close())
    const app = new Carafe({ root })
    app.use(db.middleware())
    app.get('/journal', async (c) => (await sql<{ journal_mode: string }>`pragma journal_mode`.execute(c.db as never)).rows[0])
    const s = await serve(t, app)
    assert.deepEqual(await (await fetch(`${s.url}/journal`)).json(), { journal_mode: 'wal' })
    assert.equal(db.file(), path.join(root, 'data/app.db'))
    assert.ok(existsSync(path.join(root, 'data/app.db')), 'the file is under the app root')
    assert.ok(!existsSync(path.join(process.cwd(), 'data/app.db')), 'nothing in the working directory')
  })

  it('keeps one in-memory database for the life of sqlite::memory:', async (t) => {
    const db: Database<AnyDB> = database<AnyDB>('sqlite::memory:')
    t.after(() => db.close())
    assert.equal(db.file(), ':memory:')
    await sql`create table kept (id integer primary key)`.execute(db.kysely)
    await sql`insert into kept (id) values (1), (2)`.execute(db.kysely)
    const { rows } = await sql<{ n: number }>`select count(*) as n from kept`.execute(db.kysely)
    assert.equal(rows[0]!.n, 2)
  })

  it('lets two processes write one file at once: both commit, no SQLITE_BUSY', async (t) => {
    const dir = await tempDir(t)
    const file = path.join(dir, 'shared.db')
    const setup = database<AnyDB>(`sqlite:${file}`)
    await sql`create table counter (id integer primary key, n integer not null)`.execute(setup.kysely)
    await sql`insert into counter (id, n) values (1, 0)`.execute(setup.kysely)
    await setup.close()
    // Each worker reads the counter and writes it back, in a transaction, many times. Without
    // BEGIN IMMEDIATE, two deferred transactions that both read then write fail with SQLITE_BUSY
    // (busy_timeout does not help a read lock that must become a write lock).
    const worker = path.join(dir, 'worker.mjs')
    await writeFile(worker, `import { database } from ${JSON.stringify(path.join(ROOT, 'build/src/db/index.js'))}
import { sql } from ${JSON.stringify(path.join(ROOT, 'build/src/db/index.js'))}
const db = database(${JSON.stringify(`sqlite:${file}`)})
let failures = 0
// Start together, so the two processes' transactions overlap.
await new Promise((r) => setTimeout(r, Math.max(0, Number(process.env.START_AT) - Date.now())))
for (let i = 0; i < 100; i++) {
  try {
    await db.transaction(async (tx) => {
      const { rows } = await sql\`select n from counter where id = 1\`.execute(tx)
      await new Promise((r) => setTimeout(r, 1))
      await sql\`update counter set n = \${rows[0].n + 1} where id = 1\`.execute(tx)
    })
  } catch (e) { failures++; console.error(e.code, e.message) }
}
await db.close()
console.log(JSON.stringify({ failures }))
`)
    const startAt = String(Date.now() + 500)
    const run = (): Promise<{ code: number | null; out: string; err: string }> => new Promise((resolve) => {
      const child = spawn(process.execPath, [worker], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, START_AT: startAt } })
      t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => { out += d.toString() })
      child.stderr.on('data', (d: Buffer) => { err += d.toString() })
      child.on('exit', (code) => resolve({ code, out, err }))
    })
    const results = await Promise.all([run(), run()])
    for (const r of results) {
      assert.equal(r.code, 0, r.err)
      assert.deepEqual(JSON.parse(r.out), { failures: 0 }, r.err)
    }
    const check = database<AnyDB>(`sqlite:${file}`)
    t.after(() => check.close())
    const { rows } = await sql<{ n: number }>`select n from counter where id = 1`.execute(check.kysely)
    assert.equal(rows[0]!.n, 200, 'every increment of both processes kept')
  })
})

describe('carafe/db opened before the app starts', () => {
  it('refuses to start when db.kysely already opened a relative SQLite path somewhere else', async (t) => {
    const root = await tempDir(t)
    const db = database<AnyDB>('sqlite:data/early.db')
    t.after(() => db.close())
    db.kysely // opened against the working directory
    const app = new Carafe({ root })
    app.use(db.middleware())
    await assert.rejects(app.listen({ host: '127.0.0.1', port: 0 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_DB_ROOT')
      assert.ok(e.message.includes(path.join(root, 'data/early.db')), e.message)
      return true
    })
  })

  it('starts when it was opened with the app root', async (t) => {
    const root = await tempDir(t)
    const db = database<AnyDB>('sqlite:data/early.db')
    t.after(() => db.close())
    await sql`create table early (id integer primary key)`.execute(db.open(root))
    const app = new Carafe({ root })
    app.use(db.middleware())
    app.get('/', async (c) => (await sql<{ n: number }>`select count(*) as n from early`.execute(c.db as never)).rows[0])
    const s = await serve(t, app)
    assert.deepEqual(await (await fetch(s.url)).json(), { n: 0 })
  })
})

describe('carafe/db on SQLite with a long transaction', () => {
  it('makes other requests wait at most acquireTimeout for the connection, then answers 503, and recovers', async (t) => {
    const db = database<AnyDB>('sqlite::memory:', { acquireTimeout: 300 })
    t.after(() => db.close())
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    let inside = false
    let entered!: () => void
    const holding = new Promise<void>((resolve) => { entered = resolve })
    const app = new Carafe()
    app.use(db.middleware())
    app.get('/ping', async (c) => (await sql<{ one: number }>`select 1 as one`.execute(c.db as never)).rows[0])
    app.post('/hold', () => db.transaction(async (tx) => {
      await sql`select 1`.execute(tx)
      inside = true
      entered()
      await held
      return 'held'
    }))
    const s = await serve(t, app)
    const original = console.error
    console.error = () => {}
    t.after(() => { console.error = original })
    const hold = fetch(`${s.url}/hold`, { method: 'POST' })
    await Promise.race([holding, hold.then(async (r) => { if (!inside) throw new Error(`/hold ended before holding the connection: ${r.status} ${await r.text()}`) })])
    const started = Date.now()
    const res = await fetch(`${s.url}/ping`, { headers: { accept: 'application/json' } })
    const waited = Date.now() - started
    assert.equal(res.status, 503)
    await res.body?.cancel()
    assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms`)
    release()
    assert.equal(await (await hold).text(), 'held')
    assert.deepEqual(await (await fetch(`${s.url}/ping`)).json(), { one: 1 })
  })
})
