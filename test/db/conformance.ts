import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Kysely } from 'kysely'
import { Carafe } from '../../src/index.js'
import { sql, type Database } from '../../src/db/index.js'
import type { Context } from '../../src/core/context.js'
import { serve } from '../helpers/server.js'
import { uniqueName } from '../helpers/services.js'

/** The rows these tests use; table names are unique per test, so every name maps to these shapes. */
export interface Item {
  id: number
  name: string
  parent_id: number | null
}
export type AnyDB = Record<string, Item>

/** One engine for the suite: a fresh (unopened) database per test, or `undefined` when the test was skipped. */
export interface Engine {
  name: string
  open(t: TestContext): Promise<Database<AnyDB> | undefined>
}

/** The engine's database with the two tables; when the test ends, the tables are dropped, then the pool closed. */
async function setup(t: TestContext, engine: Engine): Promise<{ db: Database<AnyDB>; parents: string; children: string } | undefined> {
  const db = await engine.open(t)
  if (db === undefined) return undefined
  const parents = uniqueName('conf_p')
  const children = uniqueName('conf_c')
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

/** `c.db` as these tests' schema (the suite does not augment ContextVariables: see types.test.ts). */
const q = (c: Context<any>): Kysely<AnyDB> => c.db as Kysely<AnyDB>

/** Make a parent table (unique `name`) and a child table referring to it. */
export async function makeTables(db: Database<AnyDB>, parents: string, children: string): Promise<void> {
  const k = db.kysely
  await k.schema.createTable(parents)
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('name', 'varchar(100)', (col) => col.notNull().unique())
    .addColumn('parent_id', 'integer')
    .execute()
  await k.schema.createTable(children)
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('name', 'varchar(100)', (col) => col.notNull())
    .addColumn('parent_id', 'integer', (col) => col.notNull().references(`${parents}.id`))
    .execute()
}

/** An app with the db plugin and routes over the two tables. */
export function makeApp(db: Database<AnyDB>, parents: string, children: string): Carafe {
  const app = new Carafe()
  app.use(db.middleware())
  app.get('/parents/<int:id>', (c) => q(c).selectFrom(parents).selectAll().where('id', '=', c.params.id).executeTakeFirstOrThrow())
  app.post('/parents', async (c) => {
    const row = (await c.req.json()) as Item
    await q(c).insertInto(parents).values(row).execute()
    return c.json(row, 201)
  })
  app.delete('/parents/<int:id>', async (c) => {
    await q(c).deleteFrom(parents).where('id', '=', c.params.id).execute()
    return new Response(null, { status: 204 })
  })
  app.post('/children', async (c) => {
    const row = (await c.req.json()) as Item
    await q(c).insertInto(children).values(row).execute()
    return c.json(row, 201)
  })
  app.get('/count', async (c) => {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(parents)}`.execute(q(c))
    return { n: Number(rows[0]!.n) }
  })
  return app
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) })

/**
 * The conformance suite every engine runs (Django's one-mixin-for-every-backend idea): the
 * query builder, plain SQL, transactions, and the HTTP answers database errors stand for.
 */
export function dbConformance(engine: Engine): void {
  describe(`carafe/db on ${engine.name}`, () => {
    it('creates, reads, updates and deletes rows through Kysely', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents } = ready
      const k = db.kysely
      await k.insertInto(parents).values([{ id: 1, name: 'one', parent_id: null }, { id: 2, name: 'two', parent_id: 1 }]).execute()
      assert.deepEqual(await k.selectFrom(parents).select(['id', 'name', 'parent_id']).orderBy('id').execute(), [
        { id: 1, name: 'one', parent_id: null },
        { id: 2, name: 'two', parent_id: 1 },
      ])
      const updated = await k.updateTable(parents).set({ name: 'uno' }).where('id', '=', 1).executeTakeFirst()
      assert.equal(Number(updated.numUpdatedRows), 1)
      assert.equal((await k.selectFrom(parents).select('name').where('id', '=', 1).executeTakeFirstOrThrow()).name, 'uno')
      const deleted = await k.deleteFrom(parents).where('id', '=', 2).executeTakeFirst()
      assert.equal(Number(deleted.numDeletedRows), 1)
      assert.deepEqual((await k.selectFrom(parents).select('id').execute()).map((r) => r.id), [1])
    })

    it('runs plain SQL through the sql tag with bound parameters', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents } = ready
      const k = db.kysely
      const table = sql.table(parents)
      await sql`insert into ${table} (id, name) values (${1}, ${'a'}), (${2}, ${"b'); drop table x; --"})`.execute(k)
      await sql`update ${table} set name = ${'A'} where id = ${1}`.execute(k)
      const { rows } = await sql<{ id: number; name: string }>`select id, name from ${table} where id >= ${1} order by id`.execute(k)
      assert.deepEqual(rows.map((r) => ({ id: Number(r.id), name: r.name })), [{ id: 1, name: 'A' }, { id: 2, name: "b'); drop table x; --" }])
      await sql`delete from ${table} where id = ${2}`.execute(k)
      const count = await sql<{ n: number | string }>`select count(*) as n from ${table}`.execute(k)
      assert.equal(Number(count.rows[0]!.n), 1)
    })

    it('answers 404 in JSON for executeTakeFirstOrThrow with no row, over HTTP', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents, children } = ready
      await db.kysely.insertInto(parents).values({ id: 7, name: 'seven', parent_id: null }).execute()
      const s = await serve(t, makeApp(db, parents, children))
      const found = await fetch(`${s.url}/parents/7`, { headers: { accept: 'application/json' } })
      assert.equal(found.status, 200)
      assert.deepEqual(await found.json(), { id: 7, name: 'seven', parent_id: null })
      const missing = await fetch(`${s.url}/parents/8`, { headers: { accept: 'application/json' } })
      assert.equal(missing.status, 404)
      assert.match(missing.headers.get('content-type') ?? '', /application\/json/)
      assert.deepEqual(await missing.json(), { error: 'Not Found', status: 404, message: 'nothing here: no such row' })
    })

    it('answers 409 in JSON for unique and foreign-key violations, and changes nothing', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents, children } = ready
      const s = await serve(t, makeApp(db, parents, children))
      assert.equal((await post(`${s.url}/parents`, { id: 1, name: 'taken', parent_id: null })).status, 201)
      assert.equal((await post(`${s.url}/children`, { id: 1, name: 'kid', parent_id: 1 })).status, 201)

      const dup = await post(`${s.url}/parents`, { id: 2, name: 'taken', parent_id: null })
      assert.equal(dup.status, 409)
      const dupBody = (await dup.json()) as { status: number; message: string }
      assert.equal(dupBody.status, 409)
      assert.match(dupBody.message, /unique value already exists/)
      const samePk = await post(`${s.url}/parents`, { id: 1, name: 'other', parent_id: null })
      assert.equal(samePk.status, 409)

      const orphan = await post(`${s.url}/children`, { id: 2, name: 'orphan', parent_id: 99 })
      assert.equal(orphan.status, 409)
      assert.match(((await orphan.json()) as { message: string }).message, /refers to a row that does not exist/)
      const referenced = await fetch(`${s.url}/parents/1`, { method: 'DELETE', headers: { accept: 'application/json' } })
      assert.equal(referenced.status, 409)
      await referenced.body?.cancel()

      assert.deepEqual(await (await fetch(`${s.url}/count`)).json(), { n: 1 })
      assert.deepEqual(await db.kysely.selectFrom(parents).select(['id', 'name']).execute(), [{ id: 1, name: 'taken' }])
      assert.deepEqual(await db.kysely.selectFrom(children).select(['id', 'name']).execute(), [{ id: 1, name: 'kid' }])
    })

    it('answers 409 for NOT NULL and CHECK violations, and changes nothing', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents, children } = ready
      const checked = uniqueName('conf_k')
      await db.kysely.schema.createTable(checked)
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('name', 'varchar(100)', (col) => col.notNull().check(sql`char_length(name) > 0`.$castTo<boolean>()))
        .execute()
        .catch(async () => {
          // SQLite has no char_length(); length() is the same here.
          await db.kysely.schema.createTable(checked)
            .addColumn('id', 'integer', (col) => col.primaryKey())
            .addColumn('name', 'varchar(100)', (col) => col.notNull().check(sql`length(name) > 0`))
            .execute()
        })
      t.after(() => db.kysely.schema.dropTable(checked).ifExists().execute())
      const app = makeApp(db, parents, children)
      app.post('/checked', async (c) => {
        await q(c).insertInto(checked).values((await c.req.json()) as Item).execute()
        return c.json({ ok: true }, 201)
      })
      const s = await serve(t, app)
      assert.equal((await post(`${s.url}/checked`, { id: 1, name: 'fine' })).status, 201)
      const empty = await post(`${s.url}/checked`, { id: 2, name: '' })
      assert.equal(empty.status, 409)
      assert.match(((await empty.json()) as { message: string }).message, /breaks one of its rules/)
      const missing = await post(`${s.url}/checked`, { id: 3, name: null })
      assert.equal(missing.status, 409)
      assert.match(((await missing.json()) as { message: string }).message, /required value is missing/)
      assert.deepEqual(await db.kysely.selectFrom(checked).select(['id', 'name']).execute(), [{ id: 1, name: 'fine' }])
    })

    it('commits a transaction that resolves and rolls back one that throws', async (t) => {
      const ready = await setup(t, engine)
      if (ready === undefined) return
      const { db, parents } = ready
      const got = await db.transaction(async (tx) => {
        await tx.insertInto(parents).values({ id: 1, name: 'kept', parent_id: null }).execute()
        return 'done'
      })
      assert.equal(got, 'done')
      await assert.rejects(db.transaction(async (tx) => {
        await tx.insertInto(parents).values({ id: 2, name: 'lost', parent_id: null }).execute()
        await tx.updateTable(parents).set({ name: 'changed' }).where('id', '=', 1).execute()
        throw new Error('boom')
      }), /boom/)
      // A constraint error half way rolls back the writes before it too.
      await assert.rejects(db.transaction(async (tx) => {
        await tx.insertInto(parents).values({ id: 3, name: 'also lost', parent_id: null }).execute()
        await tx.insertInto(parents).values({ id: 4, name: 'kept', parent_id: null }).execute()
      }))
      assert.deepEqual(await db.kysely.selectFrom(parents).select(['id', 'name']).execute(), [{ id: 1, name: 'kept' }])
    })

    it('rolls back a transaction in a handler whose error becomes a 409', async (t) => {
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
      const res = await fetch(`${s.url}/pair`, { method: 'POST', headers: { accept: 'application/json' } })
      assert.equal(res.status, 409)
      await res.body?.cancel()
      assert.deepEqual(await db.kysely.selectFrom(parents).selectAll().execute(), [])
    })
  })
}
