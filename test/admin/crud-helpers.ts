import type { TestContext } from 'node:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import type { Kysely } from 'kysely'
import { Carafe, type CarafeOptions } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { auth, csrf } from '../../src/auth/index.js'
import { database, sql, type Database } from '../../src/db/index.js'
import { crud, type CrudOptions } from '../../src/admin/index.js'
import { testClient, type TestClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'

export const SECRET = 'crud-tests-secret-0123456789abcdef0123456789'

export interface User { id: number; email: string; roles: string[] }
export const ALICE: User = { id: 1, email: 'alice@example.com', roles: [] }
export const BOB: User = { id: 2, email: 'bob@example.com', roles: [] }
export const ADMIN: User = { id: 3, email: 'root@example.com', roles: ['admin'] }

/** The resource's schema: Conduit-style messages so the shaping test can check them. */
export const Note = z.object({
  title: z.string().min(1, "can't be blank").max(80),
  body: z.string().nullable().optional(),
  votes: z.number().int().min(0).default(0),
  done: z.boolean().default(false),
  author_id: z.number().int().nullable().optional(),
})

/** Owners may change their notes, admins any; anyone logged in may create; everyone may read. */
export const CAN: CrudOptions<any, string, typeof Note>['can'] = (c, action, row) => {
  const u = c.user as User | null
  if (action === 'list' || action === 'read') return true
  if (u === null) return false
  if (action === 'create') return true
  return u.roles.includes('admin') || (row as { author_id?: unknown } | undefined)?.author_id === u.id
}

export interface Setup {
  app: Carafe
  url: string
  db: Database<any>
  k: Kysely<any>
  table: string
  /** A client over real HTTP, logged in as alice, sending `Sec-Fetch-Site: same-origin` like a browser on the site. */
  alice: TestClient
  bob: TestClient
  anon: TestClient
  client(): TestClient
}

export interface SetupOptions {
  url?: string
  table?: string
  csrf?: boolean
  app?: CarafeOptions
  crud?: Partial<CrudOptions<any, string, typeof Note>>
  /** Create the tables (defaults to the SQLite schema). */
  create?: (k: Kysely<any>, table: string) => Promise<void>
  drop?: (k: Kysely<any>, table: string) => Promise<void>
  /** Files for the app's `templates/` folder, by name. */
  templates?: Record<string, string>
}

/** A Carafe app over real HTTP: session, csrf, auth, a notes table with a users table for foreign keys, and crud('/notes'). */
export async function setup(t: TestContext, o: SetupOptions = {}): Promise<Setup> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-crud-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(o.templates ?? {})) {
    await mkdir(path.dirname(path.join(dir, 'templates', name)), { recursive: true })
    await writeFile(path.join(dir, 'templates', name), text)
  }
  const url = o.url ?? `sqlite:${path.join(dir, 'app.db')}`
  const table = o.table ?? 'notes'
  const db = database<any>(url)
  const k = db.kysely as Kysely<any>
  await (o.create ?? createSqlite)(k, table)
  t.after(async () => {
    if (o.drop !== undefined) await o.drop(k, table)
    await db.close()
  })
  const users = new Map([ALICE, BOB, ADMIN].map((u) => [u.id, u]))
  const app = new Carafe({ secrets: [SECRET], root: dir, ...o.app })
  app.use(session())
  if (o.csrf !== false) app.use(csrf())
  app.use(auth({ loadUser: (id) => users.get(id as number) }))
  app.use(db.middleware())
  crud(app, '/notes', { db, table, schema: Note, can: CAN, search: ['title', 'body'], filters: ['author_id', 'done'], pageSize: 5, maxPageSize: 10, ...o.crud })
  const s = await serve(t, app)
  const client = (): TestClient => testClient(app, { origin: s.url, fetch: (req) => { req.headers.set('sec-fetch-site', 'same-origin'); return fetch(req) } })
  const alice = client()
  await alice.loginAs(ALICE)
  const bob = client()
  await bob.loginAs(BOB)
  return { app, url: s.url, db, k, table, alice, bob, anon: client(), client }
}

export async function createSqlite(k: Kysely<any>, table: string): Promise<void> {
  await sql`create table users (id integer primary key, email text not null)`.execute(k)
  await sql`insert into users (id, email) values (1, 'alice@example.com'), (2, 'bob@example.com'), (3, 'root@example.com')`.execute(k)
  await sql`create table ${sql.table(table)} (id integer primary key autoincrement, title text not null unique, body text, votes integer not null default 0, done boolean not null default 0, author_id integer references users(id))`.execute(k)
}

/** Insert `n` notes by alice (titles `note 01`…) and return them as stored. */
export async function seed(k: Kysely<any>, table: string, n: number, author = 1): Promise<void> {
  for (let i = 1; i <= n; i++) await k.insertInto(table).values({ title: `note ${String(i).padStart(2, '0')}`, body: i % 2 === 0 ? 'even' : 'odd', votes: i, author_id: author }).execute()
}

export const JSON_H = { accept: 'application/json' }
export const HTML_H = { accept: 'text/html' }

/** The `_csrf` value of the first form on an HTML page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html)
  if (m === null) throw new Error('no _csrf field on the page')
  return m[1]!
}
