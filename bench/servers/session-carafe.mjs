// Carafe with carafe/session and carafe/auth: POST /login logs user 42 in, GET /me loads
// the session, the user (loadUser) and answers JSON when logged in (requireLogin).
import { pathToFileURL } from 'node:url'
import { portFromEnv } from './routes.mjs'
import { USER, SECRET, STORE, PREFIX, redisClient } from './session-common.mjs'

const dist = process.env.CARAFE_DIST ?? new URL('../../dist', import.meta.url).pathname
const load = (m) => import(pathToFileURL(`${dist}/${m}`).href)
const { Carafe } = await load('index.js')
const { session, memoryStore, redisStore } = await load('session/index.js')
const { auth, requireLogin } = await load('auth/index.js')

let store = memoryStore({ max: 100_000 })
if (STORE === 'redis') {
  const client = await redisClient()
  store = redisStore({ client, prefix: PREFIX })
}
const users = new Map([[USER.id, USER]])
const app = new Carafe({ secrets: SECRET })
app.use(session({ store }))
app.use(auth({ loadUser: (id) => users.get(id) }))
app.post('/login', async (c) => { await c.login(USER); return 'ok' })
app.get('/me', requireLogin(), (c) => ({ id: c.user.id, name: c.user.name }))

const port = portFromEnv()
await app.listen({ port, host: '127.0.0.1', log: false })
console.log(`carafe listening on 127.0.0.1:${port}`)
