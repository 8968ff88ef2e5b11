// Express 5 with express-session (its MemoryStore, or connect-redis): POST /login logs
// user 42 in, GET /me checks the session and answers JSON.
import express from 'express'
import expressSession from 'express-session'
import { portFromEnv } from './routes.mjs'
import { USER, SECRET, STORE, PREFIX, redisClient } from './session-common.mjs'

let store
if (STORE === 'redis') {
  const { RedisStore } = await import('connect-redis')
  store = new RedisStore({ client: await redisClient(), prefix: PREFIX })
}
const users = new Map([[USER.id, USER]])
const app = express()
app.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', maxAge: 14 * 86400_000 }, ...(store ? { store } : {}) }))
app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.userId = USER.id
    res.send('ok')
  })
})
app.get('/me', (req, res) => {
  const user = users.get(req.session.userId)
  if (user === undefined) return res.status(401).json({ error: 'login required' })
  res.json({ id: user.id, name: user.name })
})
const port = portFromEnv()
app.listen(port, '127.0.0.1', () => console.log(`express listening on 127.0.0.1:${port}`))
