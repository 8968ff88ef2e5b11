// Fastify 5 with @fastify/cookie + @fastify/session (its MemoryStore, or connect-redis):
// POST /login logs user 42 in, GET /me checks the session and answers JSON.
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { portFromEnv } from './routes.mjs'
import { USER, SECRET, STORE, PREFIX, redisClient } from './session-common.mjs'

let store
if (STORE === 'redis') {
  const { RedisStore } = await import('connect-redis')
  store = new RedisStore({ client: await redisClient(), prefix: PREFIX })
}
const users = new Map([[USER.id, USER]])
const app = Fastify({ logger: false })
app.register(fastifyCookie)
// rolling: false: save and re-send the cookie only when the session changed, as Carafe does (Fastify's default re-saves every response).
app.register(fastifySession, { secret: SECRET, saveUninitialized: false, rolling: false, cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 14 * 86400_000 }, ...(store ? { store } : {}) })
app.post('/login', async (req) => {
  await req.session.regenerate()
  req.session.set('userId', USER.id)
  return 'ok'
})
app.get('/me', async (req, reply) => {
  const user = users.get(req.session.get('userId'))
  if (user === undefined) return reply.code(401).send({ error: 'login required' })
  return { id: user.id, name: user.name }
})
const port = portFromEnv()
app.listen({ port, host: '127.0.0.1' }, (err) => {
  if (err) { console.error(err); process.exit(1) }
  console.log(`fastify listening on 127.0.0.1:${port}`)
})
