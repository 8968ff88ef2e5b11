// A chat with rooms: sign in with a name and a password (the first sign-in makes the
// account), pick a room, talk. Messages go over a WebSocket and reach everyone in the room,
// whichever worker their socket is on: `npx carafe run examples/chat/app.ts`, or
// `CARAFE_SECRET=$(npx carafe secret) npx carafe start examples/chat/app.ts --workers 2`.
// Users, sessions and the last messages of each room live in SQLite files under data/
// (shared by the workers); with REDIS_URL, sessions and messages go through Redis, so
// several machines can serve it.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { Carafe } from 'carafe'
import { redisStore, session, sqliteStore } from 'carafe/session'
import { auth, csrf, hashPassword, rateLimit, requireLogin, verifyPassword } from 'carafe/auth'
import { processPubSub, redisPubSub } from 'carafe/realtime'

interface User { id: number; email: string; name: string; passwordHash: string; roles: string[] }
declare module 'carafe' {
  interface CurrentUser extends User {}
}

/** What goes over the wire to the browsers. */
interface ChatMessage { from: string; text: string; at: string }

const redis = process.env.REDIS_URL
// Messages of at most 16 KiB; publish reaches every worker (processPubSub, the default) or, with Redis, every machine.
const app = new Carafe({ websocket: { maxPayload: 16 * 1024 }, pubsub: redis !== undefined ? redisPubSub({ url: redis, prefix: 'chat:pub:' }) : processPubSub() })
const dataDir = process.env.CHAT_DATA_DIR ?? path.join(app.root, 'data')
mkdirSync(dataDir, { recursive: true })

// ---- users and the last messages: SQLite (WAL: the workers share the file) --------------
const db = new Database(path.join(dataDir, 'chat.db'))
db.pragma('journal_mode = WAL')
db.pragma('busy_timeout = 5000')
db.exec(`CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, room TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_room ON messages (room, id);`)
app.onShutdown(() => db.close())
type Row = { id: number; name: string; password_hash: string }
const toUser = (r: Row | undefined): User | undefined => r === undefined ? undefined : { id: r.id, email: '', name: r.name, passwordHash: r.password_hash, roles: [] }
const userById = (id: unknown): User | undefined => toUser(db.prepare('SELECT * FROM users WHERE id = ?').get(Number(id)) as Row | undefined)
const userByName = (name: string): User | undefined => toUser(db.prepare('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined)
const history = (room: string): ChatMessage[] =>
  (db.prepare('SELECT sender AS "from", text, at FROM (SELECT * FROM messages WHERE room = ? ORDER BY id DESC LIMIT 50) ORDER BY id').all(room) as ChatMessage[])

app.use(session({ store: redis !== undefined ? redisStore({ url: redis, prefix: 'chat:sess:' }) : sqliteStore({ path: path.join(dataDir, 'sessions.db') }), maxAge: '14d' }))
app.use(csrf())
app.use(auth({ loadUser: userById }))

const ROOM = /^[a-z0-9-]{1,30}$/
const NAME = /^[\p{L}\p{N}_ .-]{2,30}$/u

app.get('/', function home(c) {
  return c.render('home.html', { rooms: ['lobby', 'random', 'help'] })
})

// Sign in, or make the account on the first sign-in with that name.
const signInLimit = rateLimit({ window: '15m', max: 20, ...(redis !== undefined ? { store: { redis, prefix: 'chat:rl:signin' } } : { perProcess: true }) })
app.post('/signin', signInLimit, async function signin(c) {
  const f = await c.req.form()
  const name = (f.text('name') ?? '').trim()
  const password = f.text('password') ?? ''
  if (!NAME.test(name) || password.length < 8) {
    c.flash('A name of 2 to 30 letters or digits, and a password of at least 8 characters, please.', 'error')
    return c.redirect('/', 303)
  }
  let user = userByName(name)
  if (user === undefined) {
    const hash = await hashPassword(password)
    db.prepare('INSERT OR IGNORE INTO users (name, password_hash) VALUES (?, ?)').run(name, hash)
    user = userByName(name)!
  } else if (!(await verifyPassword(user.passwordHash, password))) {
    c.flash('That name is taken, and that is not its password.', 'error')
    return c.redirect('/', 303)
  }
  await c.login(user)
  return c.redirect(c.safeNext('/rooms/lobby', f.text('next')), 303)
})

app.post('/signout', async function signout(c) {
  await c.logout() // also closes this session's sockets
  return c.redirect('/', 303)
})

app.get('/rooms/<room>', requireLogin(), function room(c) {
  if (!ROOM.test(c.params.room)) return c.abort(404)
  return c.render('room.html', { room: c.params.room, history: history(c.params.room) })
})

// The socket of a room page: only for signed-in users, only from this site's pages (the
// origin check), messages of at most 2000 characters.
app.ws('/ws/<room>', requireLogin(), {
  open(ws, c) {
    if (!ROOM.test(c.params.room)) return ws.close(1008, 'no such room')
    ws.subscribe(`room:${c.params.room}`)
    ws.json({ hello: c.user!.name, room: c.params.room, worker: process.pid })
  },
  message(ws, data, c) {
    const text = String(data).trim().slice(0, 2000)
    if (text === '') return
    const message: ChatMessage = { from: c.user!.name, text, at: new Date().toISOString() }
    db.prepare('INSERT INTO messages (room, sender, text, at) VALUES (?, ?, ?, ?)').run(c.params.room, message.from, message.text, message.at)
    app.publish(`room:${c.params.room}`, message)
  },
})

app.static('/static', path.join(app.root, 'static'))

export default app
