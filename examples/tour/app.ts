// The app that docs/tour.md builds step by step: a tiny blog with sign-up, login, posts
// stored in SQLite, CSRF-protected forms, flash messages and a JSON API.
// `npx carafe run examples/tour/app.ts --reload`, then open http://localhost:8000/.
import type { Generated } from 'kysely'
import { z } from 'zod'
import { Carafe } from 'carafe'
import { session, sqliteStore } from 'carafe/session'
import { auth, csrf, hashPassword, requireLogin, verifyPassword } from 'carafe/auth'
import { database } from 'carafe/db'

// ---- step 9: the database's tables (made by migrations/…_create_tables.ts) -------------
interface DB {
  users: { id: Generated<number>; email: string; name: string; password_hash: string }
  posts: { id: Generated<number>; title: string; body: string; author_id: number; created_at: Generated<string> }
}
interface User { id: number; email: string; name: string; passwordHash: string; roles: string[] }

// c.user is a User everywhere (the same shape as the other examples, which tsc checks together).
declare module 'carafe' {
  interface CurrentUser extends User {}
}

// ---- step 1: the app; step 4: its static folder at /static; step 9: the database --------
// root: the folder templates/, static/ and migrations/ are in; by default the folder of the
// script that was run (this one, under `carafe run`). A compiled test importing the app
// runs from build/test/…, so it says where they are with TOUR_ROOT.
const app = new Carafe({ root: process.env.TOUR_ROOT, static: { dir: 'static' } })
const data = process.env.TOUR_DATA_DIR ?? 'data'
const db = database<DB>(`sqlite:${data}/tour.db`, { migrate: true })
// db.middleware() opens it at startup (running the migrations), closes it on shutdown, and
// turns a missing row into a 404 and a unique violation into a 409.
app.use(db.middleware())

// ---- step 6: sessions; step 8: CSRF; step 7: logins ------------------------------------
const loadUser = async (id: unknown): Promise<User | undefined> => {
  const row = await db.kysely.selectFrom('users').selectAll().where('id', '=', Number(id)).executeTakeFirst()
  return row && { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash, roles: [] }
}
// Sessions in a SQLite file: they survive restarts, and every `carafe start` worker sees them.
app.use(session({ store: sqliteStore({ path: `${data}/sessions.db` }) }))
app.use(csrf())
app.use(auth({ loadUser }))

// ---- step 2: routes with typed params; step 3: templates -------------------------------
app.get('/', async function index(c) {
  const posts = await db.kysely.selectFrom('posts').innerJoin('users', 'users.id', 'posts.author_id')
    .select(['posts.id', 'posts.title', 'users.name as author']).orderBy('posts.id', 'desc').execute()
  return c.render('index.html', { posts })
})

app.get('/hello/<name>', function hello(c) {
  return c.render('hello.html', { name: c.params.name })
})

app.get('/posts/<int:id>', async function post(c) {
  // c.params.id is a number: <int:id> matched only digits.
  const post = await db.kysely.selectFrom('posts').selectAll().where('id', '=', c.params.id).executeTakeFirst()
  if (post === undefined) c.abort(404, 'no such post')
  return c.render('post.html', { post })
})

// ---- step 5: forms and validation -----------------------------------------------------
const Signup = z.object({
  email: z.string().trim().toLowerCase().email('Enter an email address.'),
  name: z.string().trim().min(1, 'Enter your name.').max(50),
  password: z.string().min(8, 'Use at least 8 characters.'),
})

app.get('/signup', function signup(c) {
  return c.render('signup.html', { values: {}, errors: {} })
})

app.post('/signup', async function doSignup(c) {
  const result = await c.validate('form', Signup)
  if (!result.success) {
    const values = (await c.req.form()).toObject()
    return c.render('signup.html', { values, errors: result.errors }, 400)
  }
  const { email, name, password } = result.data
  const taken = await db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()
  if (taken !== undefined) return c.render('signup.html', { values: { email, name }, errors: { email: ['That email already has an account.'] } }, 400)
  const { id } = await db.kysely.insertInto('users').values({ email, name, password_hash: await hashPassword(password) })
    .returning('id').executeTakeFirstOrThrow()
  await c.login((await loadUser(id))!)
  c.flash(`Welcome, ${name}!`)
  return c.redirect(c.url('index'), 303)
})

// ---- step 7: login and logout ---------------------------------------------------------
app.get('/login', function login(c) {
  return c.render('login.html', { next: c.safeNext('') })
})

app.post('/login', async function doLogin(c) {
  const form = await c.req.form()
  const email = (form.text('email') ?? '').trim().toLowerCase()
  const row = await db.kysely.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()
  // No such user: checked against a dummy hash, so both failures take the same time.
  if (!(await verifyPassword(row?.password_hash, form.text('password') ?? '')) || row === undefined) {
    c.flash('Wrong email or password.', 'error')
    return c.render('login.html', { next: c.safeNext('', form.text('next')), email }, 401)
  }
  await c.login((await loadUser(row.id))!)
  c.flash(`Signed in as ${row.name}.`)
  return c.redirect(c.safeNext(c.url('index'), form.text('next')), 303)
})

app.post('/logout', async function logout(c) {
  await c.logout()
  c.flash('Signed out.')
  return c.redirect(c.url('index'), 303)
})

// ---- step 5 again, behind a login: write a post ---------------------------------------
const Post = z.object({
  title: z.string().trim().min(1, "Give the post a title.").max(200),
  body: z.string().max(10_000).default(''),
})

app.get('/posts/new', requireLogin(), function newPost(c) {
  return c.render('new.html', { values: {}, errors: {} })
})

app.post('/posts/new', requireLogin(), async function createPost(c) {
  const result = await c.validate('form', Post)
  if (!result.success) return c.render('new.html', { values: (await c.req.form()).toObject(), errors: result.errors }, 400)
  const { id } = await db.kysely.insertInto('posts').values({ ...result.data, author_id: c.user!.id })
    .returning('id').executeTakeFirstOrThrow()
  c.flash('Post published.')
  return c.redirect(c.url('post', { id }), 303)
})

// ---- step 10: JSON --------------------------------------------------------------------
app.get('/api/posts', async function apiPosts() {
  return db.kysely.selectFrom('posts').select(['id', 'title', 'author_id', 'created_at']).orderBy('id').execute()
})

// c.valid() throws instead: a 400 whose JSON lists each field's issue.
app.post('/api/posts', requireLogin(), async function apiCreatePost(c) {
  const { title, body } = await c.valid('json', Post)
  const created = await db.kysely.insertInto('posts').values({ title, body, author_id: c.user!.id })
    .returningAll().executeTakeFirstOrThrow()
  return c.json(created, 201)
})

app.get('/api/posts/<int:id>', async function apiPost(c) {
  // No row: executeTakeFirstOrThrow's error becomes a 404 (db.middleware() maps it).
  return db.kysely.selectFrom('posts').selectAll().where('id', '=', c.params.id).executeTakeFirstOrThrow()
})

export { app }
app.run({ port: 8000 })
