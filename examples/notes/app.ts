// A small database-backed site: notes with a CRUD resource (JSON API and HTML pages) and
// the admin, on SQLite with no setup: `npx carafe run examples/notes/app.ts`.
// The migration in migrations/ makes the tables at startup; the first start also makes an
// admin account and prints its password (or set NOTES_ADMIN_PASSWORD).
// In production, shared state lives in services, so several workers and machines can serve
// it: `DATABASE_URL=postgres://… REDIS_URL=redis://… carafe start examples/notes/app.ts
// --workers 2` (sessions and login throttling then in Redis; deploy/ has the nginx recipe).
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import { Carafe } from 'carafe'
import { redisStore, session, sqliteStore } from 'carafe/session'
import { auth, csrf, hashPassword, rateLimit, verifyPassword } from 'carafe/auth'
import { database } from 'carafe/db'
import { admin, crud } from 'carafe/admin'

interface DB {
  users: { id: number; email: string; password_hash: string; roles: string }
  notes: { id: number; title: string; body: string; author_id: number | null; created_at: string }
}
interface User { id: number; email: string; name: string; passwordHash: string; roles: string[] }

declare module 'carafe' {
  interface CurrentUser extends User {}
  interface ContextVariables { db: Kysely<DB> }
}

const app = new Carafe()
const data = process.env.NOTES_DATA_DIR ?? 'data'
const db = database<DB>(process.env.DATABASE_URL ?? `sqlite:${data}/notes.db`, { migrate: true })

const loadUser = async (id: unknown): Promise<User | undefined> => {
  const row = await db.kysely.selectFrom('users').selectAll().where('id', '=', Number(id)).executeTakeFirst()
  return row === undefined ? undefined : { id: row.id, email: row.email, name: row.email.split('@')[0]!, passwordHash: row.password_hash, roles: JSON.parse(row.roles) as string[] }
}

app.use(db.middleware())
const redis = process.env.REDIS_URL
app.use(session({ store: redis !== undefined ? redisStore({ url: redis, prefix: `${process.env.NOTES_REDIS_PREFIX ?? 'notes'}:sess:` }) : sqliteStore({ path: `${data}/sessions.db` }), maxAge: '14d' }))
app.use(csrf())
app.use(auth({ loadUser, roles: (u) => u.roles }))

// The first start makes the admin account: once per start, after the migrations, before
// any worker serves (two machines starting at once: one insert wins, the other finds it).
app.onPrimary(async () => {
  const any = await db.kysely.selectFrom('users').select('id').limit(1).executeTakeFirst()
  if (any !== undefined) return
  const password = process.env.NOTES_ADMIN_PASSWORD ?? randomBytes(9).toString('base64url')
  const made = await db.kysely.insertInto('users').values({ email: 'admin@example.com', password_hash: await hashPassword(password), roles: '["admin"]' } as never).execute().then(() => true, async (e: unknown) => {
    if (await db.kysely.selectFrom('users').select('id').where('email', '=', 'admin@example.com').executeTakeFirst() !== undefined) return false
    throw e
  })
  if (made && process.env.NOTES_ADMIN_PASSWORD === undefined) console.log(`Made the admin account: admin@example.com / ${password}`)
})

const Note = z.object({
  title: z.string().trim().min(1, "can't be blank").max(200),
  body: z.string().max(5000).default(''),
})

// /notes: a JSON API and HTML pages; anyone reads, signed-in users write, authors and
// admins change or delete their notes.
crud(app, '/notes', {
  db,
  table: 'notes',
  schema: Note,
  search: ['title', 'body'],
  sortable: ['title', 'created_at'],
  filters: ['author_id'],
  can: (c, action, row) => {
    if (action === 'list' || action === 'read') return true
    const user = c.user
    if (user === null) return false
    if (action === 'create') return true
    return user.roles.includes('admin') || (row as { author_id?: unknown } | undefined)?.author_id === user.id
  },
})

app.mount('/admin', admin({ db, tables: { notes: { list: ['title', 'created_at'], search: ['title'], filters: ['author_id'] }, users: { list: ['email', 'roles'], search: ['email'] } }, role: 'admin' }))

app.get('/', function home(c) {
  return c.redirect('/notes')
})

app.get('/login', function login(c) {
  return c.render('login.html', { next: c.safeNext('') })
})

// Counted per process without Redis; in Redis (shared by every worker and machine) with it.
const loginLimit = rateLimit({ window: '15m', max: Number(process.env.NOTES_LOGIN_LIMIT ?? 10), ...(redis !== undefined ? { store: { redis, prefix: `${process.env.NOTES_REDIS_PREFIX ?? 'notes'}:rl:login` } } : {}) })
app.post('/login', loginLimit, async function doLogin(c) {
  const f = await c.req.form()
  const row = await c.db.selectFrom('users').selectAll().where('email', '=', (f.text('email') ?? '').trim().toLowerCase()).executeTakeFirst()
  const ok = await verifyPassword(row?.password_hash, f.text('password') ?? '')
  if (row === undefined || !ok) return c.render('login.html', { next: c.safeNext('', f.text('next')), error: 'Wrong email or password.' }, 401)
  await c.login((await loadUser(row.id))!)
  return c.redirect(c.safeNext('/notes', f.text('next')), 303)
})

app.post('/logout', async function logout(c) {
  await c.logout()
  return c.redirect('/notes', 303)
})

app.run({ port: 8000 })
