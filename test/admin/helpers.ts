import type { TestContext } from 'node:test'
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { auth, csrf } from '../../src/auth/index.js'
import { database, sql, type Database } from '../../src/db/index.js'
import { admin, type AdminOptions } from '../../src/admin/index.js'
import { testClient, type TestClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'
import { uniqueName } from '../helpers/services.js'

export const SECRET = 'admin-tests-secret-0123456789abcdef0123456789'

export interface User { id: number; email: string; roles: string[] }
export const ADMIN: User = { id: 1, email: 'ann@example.com', roles: ['admin'] }
export const STAFF: User = { id: 2, email: 'bob@example.com', roles: ['staff'] }

export interface Site {
  url: string
  root: string
  db: Database<unknown>
  /** The table names this site made (unique per test). */
  users: string
  notes: string
  history: string
  client(): TestClient
  /** A client logged in as `user`. */
  as(user: User): Promise<TestClient>
  count(table: string): Promise<number>
}

export interface SiteOptions {
  /** A database URL; a temporary SQLite file by default. */
  url?: string
  csrf?: boolean
  /** Files to put under the app root before it starts (`templates/admin/list.html`). */
  files?: Record<string, string>
  tables?: (names: { users: string; notes: string }) => AdminOptions['tables']
  /** Other admin() options. */
  admin?: Partial<AdminOptions>
}

/** An app with session(), csrf(), auth({ roles }), two tables and the admin at /admin, on loopback. */
export async function site(t: TestContext, options: SiteOptions = {}): Promise<Site> {
  const root = await mkdtemp(path.join(tmpdir(), 'carafe-admin-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await writeFile(path.join(root, name), text)
  }
  const db = database<unknown>(options.url ?? `sqlite:${path.join(root, 'app.db')}`)
  const users = uniqueName('users')
  const notes = uniqueName('notes')
  const history = uniqueName('admin_log')
  const k = db.open(root)
  const pg = db.dialect === 'postgres'
  const serial = sql.raw(pg ? 'serial' : db.dialect === 'mysql' ? 'integer auto_increment' : 'integer')
  await sql`create table ${sql.table(users)} (id ${serial} primary key, email varchar(120) not null unique, name varchar(80))`.execute(k)
  await sql`create table ${sql.table(notes)} (
    id ${serial} primary key,
    title varchar(200) not null,
    body text,
    author_id integer,
    published boolean not null default ${sql.raw(pg ? 'false' : '0')},
    due date,
    rating real,
    created_at timestamp not null default current_timestamp,
    foreign key (author_id) references ${sql.table(users)}(id))`.execute(k)
  t.after(async () => {
    for (const name of [notes, users, history]) await sql`drop table if exists ${sql.table(name)}`.execute(k)
    await db.close()
  })
  const app = new Carafe({ root, secrets: [SECRET] })
  app.use(session())
  if (options.csrf !== false) app.use(csrf())
  const known = new Map([ADMIN, STAFF].map((u) => [u.id, u]))
  app.use(auth({ loadUser: (id) => known.get(Number(id)), roles: (u) => (u as User).roles }))
  app.mount('/admin', admin({
    db,
    historyTable: history,
    title: 'Test admin',
    tables: options.tables?.({ users, notes }) ?? {
      [notes]: { label: 'Notes', list: ['title', 'author_id', 'published', 'created_at'], search: ['title', 'body'], filters: ['author_id', 'published'], perPage: 10 },
      [users]: { label: 'Users', list: ['email', 'name'], search: ['email'] },
    },
    ...options.admin,
  }))
  const s = await serve(t, app)
  const client = (): TestClient => testClient(app, { origin: s.url, fetch: (r) => fetch(r) })
  return {
    url: s.url, root, db, users, notes, history, client,
    async as(user) {
      const c = client()
      await c.loginAs(user)
      return c
    },
    async count(table) {
      const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(k)
      return Number(r.rows[0]!.n)
    },
  }
}

/** The CSRF token in the last form of `html`. */
export function tokenIn(html: string): string {
  const all = [...html.matchAll(/name="_csrf" value="([^"]+)"/g)]
  if (all.length === 0) throw new Error(`no CSRF field in:\n${html.slice(0, 500)}`)
  return all[all.length - 1]![1]!
}

/** GET a page (as a browser: Accept text/html), then POST its form with the token it carries and `fields`. */
export async function submit(client: TestClient, page: string, action: string, fields: Record<string, string | string[]>): Promise<Response> {
  const res = await client.get(page, { headers: { accept: 'text/html' } })
  const html = await res.text()
  if (res.status !== 200) throw new Error(`GET ${page}: ${res.status}\n${html.slice(0, 300)}`)
  return client.post(action, { form: { ...fields, _csrf: tokenIn(html) }, headers: { accept: 'text/html' } })
}

/** Insert rows with plain SQL (the admin is what is under test, not the seeding). */
export async function seed(s: Site, authors = true, n = 0): Promise<void> {
  const k = s.db.open(s.root)
  if (authors) {
    await sql`insert into ${sql.table(s.users)} (id, email, name) values (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob')`.execute(k)
  }
  for (let i = 1; i <= n; i++) {
    const title = `Note ${String(i).padStart(2, '0')}${i % 5 === 0 ? ' apple' : ''}`
    await sql`insert into ${sql.table(s.notes)} (title, body, author_id) values (${title}, ${`body of ${i}`}, ${i % 2 === 0 ? 2 : 1})`.execute(k)
  }
}
