// Fastify 5 with the same Kysely dialect, queries and Nunjucks template as db-carafe.mjs.
import Fastify from 'fastify'
import nunjucks from 'nunjucks'
import { portFromEnv } from './routes.mjs'
import { bareKysely, TEMPLATES, LIST_TEMPLATE, getRow, listRows, setup, cleanupOnExit } from './db-common.mjs'

const { db, sql } = await bareKysely()
await setup(db, sql)
cleanupOnExit(db, sql)
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES), { autoescape: true })

const app = Fastify({ logger: false })
app.get('/notes/:id', async (req, reply) => {
  const row = await getRow(db, Number(req.params.id))
  if (row === undefined) return reply.code(404).send({ error: 'not found' })
  return row
})
app.get('/notes', async (req, reply) => {
  const notes = await listRows(db)
  const html = await new Promise((resolve, reject) => env.render(LIST_TEMPLATE, { notes }, (e, out) => (e ? reject(e) : resolve(out))))
  reply.type('text/html; charset=utf-8').send(html)
})
const port = portFromEnv()
app.listen({ port, host: '127.0.0.1' }, (err) => {
  if (err) { console.error(err); process.exit(1) }
  console.log(`fastify listening on 127.0.0.1:${port}`)
})
