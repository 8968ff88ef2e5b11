// Fastify 5 serving the same two Conduit routes on the same prepared SQLite file, through
// the same data layer (examples/conduit/lib: the same Kysely queries) and, for the home
// page, the same Nunjucks templates with the globals a visitor's page gets. The API answers
// with CORS for any origin, as the spec asks and Carafe's Conduit does (@fastify/cors on /api).
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import cors from '@fastify/cors'
import nunjucks from 'nunjucks'
import { portFromEnv } from './routes.mjs'
import { CONDUIT, cleanupOnExit, prepareConduit } from './conduit-common.mjs'

const { dir, data, dist } = await prepareConduit()
const { database } = await import(pathToFileURL(join(dist, 'db', 'index.js')).href)
const views = await import(pathToFileURL(join(CONDUIT, 'lib', 'views.ts')).href)
const db = database(`sqlite:${join(dir, 'conduit.db')}`)
const k = db.open(CONDUIT)
cleanupOnExit(dir, () => db.close())

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(join(CONDUIT, 'templates')), { autoescape: true })
env.addGlobal('static', (file) => `/static/${file}`)

const app = Fastify({ logger: false })
app.get('/', async (req, reply) => {
  const page = views.pageOf({ req: { query: (name) => req.query[name] } })
  if (page === null) return reply.code(400).send('bad page')
  const view = await views.homeData(k, { page, tag: req.query.tag, viewerId: null })
  const html = await new Promise((resolve, reject) => env.render('home.html', {
    ...view, here: req.url, request: { path: '/' }, params: {}, current_user: null,
    get_flashed_messages: () => [], csrf_token: () => '', csrf_field: () => '',
  }, (e, out) => (e ? reject(e) : resolve(out))))
  reply.type('text/html; charset=utf-8').send(html)
})
app.register(async (api) => {
  await api.register(cors, { origin: '*', allowedHeaders: ['Content-Type', 'Authorization', 'X-Requested-With'], methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], maxAge: 600 })
  api.get('/api/articles', async (req, reply) => {
    const n = (v, d) => (v === undefined ? d : /^\d+$/.test(v) ? Number(v) : NaN)
    const limit = n(req.query.limit, 20)
    const offset = n(req.query.offset, 0)
    if (Number.isNaN(limit) || Number.isNaN(offset)) return reply.code(422).send({ errors: { query: ['limit and offset must be whole numbers'] } })
    const { articles, articlesCount } = await data.listArticles(k, { limit, offset, tag: req.query.tag, author: req.query.author, favorited: req.query.favorited }, null)
    return { articles: articles.map(({ id, ...a }) => a), articlesCount }
  })
})
const port = portFromEnv()
app.listen({ port, host: '127.0.0.1' }, (err) => {
  if (err) { console.error(err); process.exit(1) }
  console.log(`fastify listening on 127.0.0.1:${port}`)
})
