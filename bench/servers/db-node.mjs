// Not a peer: raw node:http around the same Kysely queries and template: the bare driver
// call, so the run shows what Carafe adds over it, in µs.
import { createServer } from 'node:http'
import nunjucks from 'nunjucks'
import { portFromEnv } from './routes.mjs'
import { bareKysely, TEMPLATES, LIST_TEMPLATE, getRow, listRows, setup, cleanupOnExit } from './db-common.mjs'

const { db, sql } = await bareKysely()
await setup(db, sql)
cleanupOnExit(db, sql)
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES), { autoescape: true })

const port = portFromEnv()
createServer(async (req, res) => {
  const m = /^\/notes\/(\d+)$/.exec(req.url)
  if (m !== null) {
    const row = await getRow(db, Number(m[1]))
    const body = JSON.stringify(row ?? { error: 'not found' })
    res.writeHead(row === undefined ? 404 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    return res.end(body)
  }
  if (req.url === '/notes') {
    const notes = await listRows(db)
    env.render(LIST_TEMPLATE, { notes }, (e, html) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) })
      res.end(html)
    })
    return
  }
  res.writeHead(404, { 'content-length': 0 })
  res.end()
}).listen(port, '127.0.0.1', () => console.log(`node listening on 127.0.0.1:${port}`))
