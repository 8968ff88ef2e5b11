import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { database, type Database } from '../../src/db/index.js'
import { rollbackAfter, withRollback } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'
import { SERVICES, needService, uniqueName } from '../helpers/services.js'
import { makeApp, makeTables, type AnyDB } from '../db/conformance.js'

interface Engine {
  name: string
  open(t: TestContext): Promise<Database<AnyDB> | undefined>
}

const ENGINES: Engine[] = [
  { name: 'SQLite (memory)', open: async () => database<AnyDB>('sqlite::memory:') },
  {
    name: 'SQLite (file)',
    open: async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'carafe-rollback-'))
      t.after(() => rm(dir, { recursive: true, force: true }))
      return database<AnyDB>(`sqlite:${path.join(dir, 'app.db')}`)
    },
  },
  { name: 'PostgreSQL', open: async (t) => ((await needService(t, 'postgres')) ? database<AnyDB>(SERVICES.postgres.url) : undefined) },
  { name: 'MariaDB', open: async (t) => ((await needService(t, 'mariadb')) ? database<AnyDB>(SERVICES.mariadb.url) : undefined) },
]

/** The engine's database with two new tables (made outside any test transaction), dropped and closed at the end. */
async function setup(t: TestContext, engine: Engine): Promise<{ db: Database<AnyDB>; parents: string; children: string } | undefined> {
  const db = await engine.open(t)
  if (db === undefined) return undefined
  const parents = uniqueName('rb_p')
  const children = uniqueName('rb_c')
  t.after(async () => {
    try {
      await db.kysely.schema.dropTable(children).ifExists().execute()
      await db.kysely.schema.dropTable(parents).ifExists().execute()
    } finally {
      await db.close()
    }
  })
  await makeTables(db, parents, children)
  return { db, parents, children }
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) })

for (const engine of ENGINES) {
  describe(`withRollback() on ${engine.name}`, () => {
    it('runs the app\'s requests in the test\'s transaction and leaves nothing behind', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents, children } = ready
      const s = await serve(t, makeApp(db, parents, children))
      const seen = await withRollback(db, async (tx) => {
        assert.equal((await post(`${s.url}/parents`, { id: 1, name: 'one', parent_id: null })).status, 201)
        assert.equal((await post(`${s.url}/children`, { id: 1, name: 'kid', parent_id: 1 })).status, 201)
        const res = await fetch(`${s.url}/parents/1`, { headers: { accept: 'application/json' } })
        assert.deepEqual(await res.json(), { id: 1, name: 'one', parent_id: null })
        return (await tx.selectFrom(parents).select('name').execute()).map((r) => r.name)
      })
      assert.deepEqual(seen, ['one'], 'the test saw what the request wrote')
      assert.deepEqual(await db.kysely.selectFrom(parents).selectAll().execute(), [], 'rolled back')
      assert.deepEqual(await db.kysely.selectFrom(children).selectAll().execute(), [])
      assert.equal(db.pinned, null)
    })

    it('keeps the transaction usable after a request fails, and makes db.transaction() a savepoint', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents, children } = ready
      const app = makeApp(db, parents, children)
      app.post('/pair', () => db.transaction(async (tx) => {
        await tx.insertInto(parents).values({ id: 10, name: 'ten', parent_id: null }).execute()
        await tx.insertInto(children).values({ id: 10, name: 'bad', parent_id: 404 }).execute()
        return 'unreachable'
      }))
      const s = await serve(t, app)
      await withRollback(db, async (tx) => {
        assert.equal((await post(`${s.url}/parents`, { id: 1, name: 'one', parent_id: null })).status, 201)
        const dup = await post(`${s.url}/parents`, { id: 2, name: 'one', parent_id: null })
        assert.equal(dup.status, 409)
        await dup.body?.cancel()
        // PostgreSQL refuses every statement after an error in a transaction, unless the request's savepoint undid it.
        const res = await fetch(`${s.url}/parents/1`, { headers: { accept: 'application/json' } })
        assert.equal(res.status, 200)
        await res.body?.cancel()
        const pair = await fetch(`${s.url}/pair`, { method: 'POST', headers: { accept: 'application/json' } })
        assert.equal(pair.status, 409)
        await pair.body?.cancel()
        assert.deepEqual((await tx.selectFrom(parents).select('id').execute()).map((r) => r.id), [1], 'the failed inner transaction was undone, the rest kept')
        const got = await db.transaction(async (inner) => {
          await inner.insertInto(parents).values({ id: 3, name: 'three', parent_id: null }).execute()
          return 'ok'
        })
        assert.equal(got, 'ok')
        assert.equal((await tx.selectFrom(parents).select('id').execute()).length, 2)
      })
      assert.deepEqual(await db.kysely.selectFrom(parents).selectAll().execute(), [])
    })

    it('rolls back and rethrows when the test body throws', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents } = ready
      await assert.rejects(withRollback(db, async (tx) => {
        await tx.insertInto(parents).values({ id: 1, name: 'one', parent_id: null }).execute()
        throw new Error('assertion failed')
      }), /assertion failed/)
      assert.deepEqual(await db.kysely.selectFrom(parents).selectAll().execute(), [])
      await assert.rejects(withRollback(db, () => withRollback(db, async () => 1)), { code: 'ERR_DB_PINNED' })
    })

    it('rollbackAfter(t, db) rolls back when the test ends', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents } = ready
      await t.test('writes', async (t2) => {
        const tx = await rollbackAfter(t2, db)
        await tx.insertInto(parents).values({ id: 1, name: 'one', parent_id: null }).execute()
        assert.equal((await db.kysely.selectFrom(parents).selectAll().execute()).length, 1)
      })
      assert.deepEqual(await db.kysely.selectFrom(parents).selectAll().execute(), [])
    })
  })
}
