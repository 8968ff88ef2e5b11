// Conduit, RealWorld's Medium-like demo site (../../../shared/realworld is its spec), on every
// Carafe battery: server-rendered pages with sessions, CSRF-protected forms and flash
// messages; the same data as the spec's JSON API under /api (JWT in `Authorization: Token`);
// SQL through carafe/db with migrations; uploads checked by content and served by the static
// engine; the admin at /admin; new comments live over server-sent events.
//
//   npm start                                   (from the repository: http://localhost:8000/)
//   npx carafe run examples/conduit/app.ts --reload
//   CARAFE_SECRET=… npx carafe start examples/conduit/app.ts --workers 2
//
// Embedded defaults: SQLite files under data/ (the site and its sessions), made and migrated
// on the first start, with a few demo articles. DATABASE_URL=postgres://… or mysql://… puts
// the site in PostgreSQL or MariaDB; REDIS_URL puts sessions, login throttling and live
// updates in Redis, so several machines can serve it (deploy/ has the nginx recipe).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Kysely } from 'kysely'
import { Carafe } from 'carafe'
import { redisStore, session, sqliteStore } from 'carafe/session'
import { auth, csrf, rateLimit } from 'carafe/auth'
import { database } from 'carafe/db'
import { admin } from 'carafe/admin'
import { processPubSub, redisPubSub } from 'carafe/realtime'
import { userById, type DB, type User } from './lib/data.js'
import { MAX_IMAGE_BYTES } from './lib/images.js'
import { seed } from './lib/seed.js'
import { api, apiFront, apiOnError } from './api.js'
import { pageError, pages } from './pages.js'

declare module 'carafe' {
  interface CurrentUser extends User {}
  interface ContextVariables { db: Kysely<DB> }
}

const redis = process.env.REDIS_URL
const prefix = process.env.CONDUIT_REDIS_PREFIX ?? 'conduit'
const app = new Carafe({
  // This folder, however the app is started (carafe run or start, a test, a benchmark's script).
  root: path.dirname(fileURLToPath(import.meta.url)),
  uploads: { fileSize: MAX_IMAGE_BYTES, files: 1 },
  static: { dir: 'static' }, // at /static; templates link with {{ static('conduit.css') }}
  pubsub: redis !== undefined ? redisPubSub({ url: redis, prefix: `${prefix}:pub:` }) : processPubSub(),
})
const dataDir = path.resolve(app.root, process.env.CONDUIT_DATA_DIR ?? 'data')
const db = database<DB>(process.env.DATABASE_URL ?? `sqlite:${dataDir}/conduit.db`, { migrate: true })

// First on /api/*: CORS, and the API's `{"errors": …}` shape on what the middleware below answers.
app.use('/api', apiFront())
// …and on what fails before any middleware runs (a malformed URL); the other paths get the
// site's error pages.
app.onError((error, c) => {
  const out = apiOnError(error, c)
  return out === error ? pageError(error, c) : out
})
app.use(db.middleware())
app.use(session({ store: redis !== undefined ? redisStore({ url: redis, prefix: `${prefix}:sess:` }) : sqliteStore({ path: path.join(dataDir, 'sessions.db') }), maxAge: '14d' }))
// The API authenticates by token only (api.ts ignores the session cookie), so no ambient
// credential rides on its requests and it needs no CSRF token; every page form carries one.
app.use(csrf({ exempt: ['/api/*'] }))
app.use(auth({ loadUser: (id) => userById(db.kysely, Number(id)), loginUrl: '/login', roles: (u) => u.roles, tokens: { scheme: 'Token', maxAge: '30d' } }))

// The first start makes the tables (migrations/, before any worker serves), then the admin
// account and, unless CONDUIT_DEMO=0, a few demo authors and articles.
app.onPrimary(() => seed(db.kysely, dataDir, { demo: process.env.CONDUIT_DEMO !== '0' }))

// Sign-in attempts per client, for the pages and the API together; in Redis with REDIS_URL
// (shared by every worker and machine), else per process.
const loginLimit = rateLimit({
  window: '15m', max: Number(process.env.CONDUIT_LOGIN_LIMIT ?? 20),
  ...(redis !== undefined ? { store: { redis, prefix: `${prefix}:rl:login` } } : { perProcess: true }),
})

const uploads = path.join(dataDir, 'uploads')
app.mount('/api', api({ app, db, loginLimit, uploads }))
app.mount('/admin', admin({ db, role: 'admin', tables: {
  users: { list: ['username', 'email', 'roles', 'created_at'], search: ['username', 'email'] },
  articles: { list: ['title', 'slug', 'author_id', 'created_at'], search: ['title', 'body'], filters: ['author_id'] },
  comments: { list: ['body', 'article_id', 'author_id', 'created_at'], search: ['body'], filters: ['article_id', 'author_id'] },
} }))
pages(app, { db, loginLimit, uploads })
app.static('/uploads', uploads, { maxAge: 31_536_000, immutable: true })

app.run({ port: Number(process.env.PORT ?? 8000) })
export default app
