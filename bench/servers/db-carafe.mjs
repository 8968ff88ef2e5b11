// Carafe with carafe/db: GET /notes/42 reads one row by primary key (JSON), GET /notes
// renders twenty rows with a Nunjucks template.
import { pathToFileURL } from 'node:url'
import { portFromEnv } from './routes.mjs'
import { DB_URL, TEMPLATES, LIST_TEMPLATE, getRow, listRows, setup, cleanupOnExit } from './db-common.mjs'

const dist = process.env.CARAFE_DIST ?? new URL('../../dist', import.meta.url).pathname
const load = (m) => import(pathToFileURL(`${dist}/${m}`).href)
const { Carafe } = await load('index.js')
const { database, sql } = await load('db/index.js')

const db = database(DB_URL)
await setup(db.kysely, sql)
cleanupOnExit(db.kysely, sql)
const app = new Carafe({ templates: TEMPLATES })
app.use(db.middleware())
app.get('/notes/<int:id>', async (c) => (await getRow(c.db, c.params.id)) ?? c.abort(404))
app.get('/notes', async (c) => c.render(LIST_TEMPLATE, { notes: await listRows(c.db) }))

const port = portFromEnv()
await app.listen({ port, host: '127.0.0.1', log: false })
console.log(`carafe listening on 127.0.0.1:${port}`)
