// Sign-up, login with remember-me, logout, a profile page with a password change, an
// admin-only page, flash messages and CSRF-protected forms: `npx carafe run examples/auth/app.ts`.
// Users and sessions live in SQLite files under data/ (they survive restarts). The first
// account signed up is the admin.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { Carafe } from 'carafe'
import { session, sqliteStore } from 'carafe/session'
import { auth, csrf, hashPassword, needsRehash, rateLimit, requireLogin, requireRole, verifyPassword } from 'carafe/auth'

interface User {
  id: number
  email: string
  name: string
  passwordHash: string
  roles: string[]
}

// c.user is a User everywhere in this app.
declare module 'carafe' {
  interface CurrentUser extends User {}
}

const app = new Carafe()
const dataDir = process.env.AUTH_DATA_DIR ?? path.join(app.root, 'data')
mkdirSync(dataDir, { recursive: true })

// ---- users: a small SQLite table ---------------------------------------------------------
const db = new Database(path.join(dataDir, 'users.db'))
db.pragma('journal_mode = WAL')
db.exec(`CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
  password_hash TEXT NOT NULL, roles TEXT NOT NULL DEFAULT '[]')`)
type Row = { id: number; email: string; name: string; password_hash: string; roles: string }
const toUser = (r: Row | undefined): User | undefined =>
  r === undefined ? undefined : { id: r.id, email: r.email, name: r.name, passwordHash: r.password_hash, roles: JSON.parse(r.roles) as string[] }
const users = {
  byId: (id: unknown) => toUser(db.prepare('SELECT * FROM users WHERE id = ?').get(Number(id)) as Row | undefined),
  byEmail: (email: string) => toUser(db.prepare('SELECT * FROM users WHERE email = ?').get(email.trim().toLowerCase()) as Row | undefined),
  count: () => (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n,
  create: (email: string, name: string, hash: string, roles: string[]) =>
    Number(db.prepare('INSERT INTO users (email, name, password_hash, roles) VALUES (?, ?, ?, ?)').run(email.trim().toLowerCase(), name, hash, JSON.stringify(roles)).lastInsertRowid),
  setHash: (id: number, hash: string) => db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, id),
}
app.onShutdown(() => db.close())

// ---- the batteries -------------------------------------------------------------------------
app.use(session({ store: sqliteStore({ path: path.join(dataDir, 'sessions.db') }), maxAge: '14d', idleTimeout: '2d' }))
app.use(csrf())
app.use(auth({ loadUser: (id) => users.byId(id), roles: (user) => user.roles }))

// ---- pages -------------------------------------------------------------------------------
app.get('/', function home(c) {
  return c.render('home.html')
})

app.route('/signup', { methods: ['GET', 'POST'] }, async function signup(c) {
  if (c.method === 'GET') return c.render('signup.html', { values: {} })
  const f = await c.req.form()
  const email = (f.text('email') ?? '').trim().toLowerCase()
  const name = (f.text('name') ?? '').trim()
  const password = f.text('password') ?? ''
  const errors: string[] = []
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) errors.push('Enter an email address.')
  if (name === '') errors.push('Enter your name.')
  if (password.length < 8) errors.push('Use at least 8 characters for the password.')
  if (errors.length === 0 && users.byEmail(email) !== undefined) errors.push('That email already has an account.')
  if (errors.length > 0) return c.render('signup.html', { values: { email, name }, errors }, 400)
  const id = users.create(email, name, await hashPassword(password), users.count() === 0 ? ['admin'] : [])
  await c.login(users.byId(id)!)
  c.flash(`Welcome, ${name}!`, 'success')
  return c.redirect(c.url('profile'), 303)
})

app.get('/login', function login(c) {
  return c.render('login.html', { next: c.safeNext('') })
})

// Ten tries per 15 minutes per client address, and per account (whoever tries it).
const perIp = rateLimit({ window: '15m', max: 10 })
const perAccount = rateLimit({ window: '15m', max: 10, key: async (c) => `account:${((await c.req.form()).text('email') ?? '').trim().toLowerCase()}` })

app.post('/login', perIp, perAccount, async function doLogin(c) {
  const f = await c.req.form()
  const user = users.byEmail(f.text('email') ?? '')
  const password = f.text('password') ?? ''
  // No such user: checked against a dummy hash, so both failures take the same time.
  const ok = await verifyPassword(user?.passwordHash, password)
  if (user === undefined || !ok) {
    c.flash('Wrong email or password.', 'error')
    return c.render('login.html', { next: c.safeNext('', f.text('next')), email: f.text('email') }, 401)
  }
  if (needsRehash(user.passwordHash)) users.setHash(user.id, await hashPassword(password))
  await c.login(user, { remember: f.text('remember') === 'on' })
  c.flash(`Signed in as ${user.email}.`, 'success')
  return c.redirect(c.safeNext(c.url('profile'), f.text('next')), 303)
})

app.post('/logout', async function logout(c) {
  await c.logout()
  c.flash('Signed out.')
  return c.redirect(c.url('home'), 303)
})

app.get('/profile', requireLogin(), function profile(c) {
  return c.render('profile.html')
})

app.post('/profile/password', requireLogin(), async function changePassword(c) {
  const f = await c.req.form()
  const user = c.user!
  if (!(await verifyPassword(user.passwordHash, f.text('current') ?? ''))) {
    c.flash('The current password is not right.', 'error')
    return c.redirect(c.url('profile'), 303)
  }
  const fresh = f.text('password') ?? ''
  if (fresh.length < 8) {
    c.flash('Use at least 8 characters for the new password.', 'error')
    return c.redirect(c.url('profile'), 303)
  }
  users.setHash(user.id, await hashPassword(fresh))
  // Every other session of this account ends; this one stays signed in.
  await c.logoutOthers()
  c.flash('Password changed; your other sessions were signed out.', 'success')
  return c.redirect(c.url('profile'), 303)
})

app.get('/admin', requireRole('admin'), function admin(c) {
  const all = db.prepare('SELECT id, email, name, roles FROM users ORDER BY id').all() as Row[]
  return c.render('admin.html', { users: all.map((r) => ({ ...r, roles: JSON.parse(r.roles) as string[] })) })
})

app.run({ port: 8000 })
