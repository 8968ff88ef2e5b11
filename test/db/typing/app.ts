/**
 * Compiled on its own by types.test.ts (excluded from tsconfig.json): augmenting
 * ContextVariables is global to a program, and the other tests use other schemas.
 */
import type { Generated, Kysely, Selectable } from 'kysely'
import { Carafe } from '../../../src/index.js'
import { database, sql } from '../../../src/db/index.js'

interface DB {
  notes: { id: Generated<number>; title: string; author_id: number | null; created_at: Generated<string> }
  authors: { id: Generated<number>; name: string }
}

declare module '../../../src/core/context.js' {
  interface ContextVariables {
    db: Kysely<DB>
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true>(_ok: T): void {}

const db = database<DB>('sqlite::memory:')
const app = new Carafe()
app.use(db.middleware())

app.get('/notes/<int:id>', async (c) => {
  const note = await c.db.selectFrom('notes').selectAll().where('id', '=', c.params.id).executeTakeFirstOrThrow()
  expectType<Equal<typeof note, { id: number; title: string; author_id: number | null; created_at: string }>>(true)
  expectType<Equal<typeof note, Selectable<DB['notes']>>>(true)
  const titles = await c.db.selectFrom('notes').select(['id', 'title']).execute()
  expectType<Equal<typeof titles, Array<{ id: number; title: string }>>>(true)
  const joined = await c.db.selectFrom('notes').innerJoin('authors', 'authors.id', 'notes.author_id').select(['notes.title', 'authors.name as author']).execute()
  expectType<Equal<typeof joined, Array<{ title: string; author: string }>>>(true)

  // @ts-expect-error: no column `body` in notes
  await c.db.selectFrom('notes').select('body').execute()
  // @ts-expect-error: no column `titel` to filter on
  await c.db.selectFrom('notes').selectAll().where('titel', '=', 'x').execute()
  // @ts-expect-error: no table `note`
  await c.db.selectFrom('note').selectAll().execute()
  // @ts-expect-error: title is a string
  await c.db.insertInto('notes').values({ title: 42 }).execute()
  // @ts-expect-error: title is required
  await c.db.insertInto('notes').values({ author_id: 1 }).execute()
  await c.db.insertInto('notes').values({ title: 'fine' }).execute()
  return note
})

app.get('/raw', async (c) => {
  const { rows } = await sql<{ n: number }>`select count(*) as n from notes`.execute(c.db)
  expectType<Equal<typeof rows, Array<{ n: number }>>>(true)
  return rows
})

await db.transaction(async (tx) => {
  const row = await tx.selectFrom('authors').select('name').executeTakeFirst()
  expectType<Equal<typeof row, { name: string } | undefined>>(true)
  // @ts-expect-error: no column `email` in authors
  await tx.selectFrom('authors').select('email').execute()
})
