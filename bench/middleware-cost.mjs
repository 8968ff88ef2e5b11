// What a middleware costs per request on the Node door, in Carafe's own code (fake req/res
// objects through createNodeHandler, as own-cost.mjs; no sockets, no Node HTTP): the same
// GET without a cookie through an app with
//   none     no middleware
//   noop     app.use((c, next) => next())
//   plugin   app.use({ middleware: (c, next) => next() })
//   session  app.use(session())               (carafe/session, memory store)
//   auth     app.use(session()), app.use(auth({ loadUser }))
// Variants are interleaved over rounds, medians printed with the differences the issue
// bounds (session − noop ≤ 1 µs). Usage: node bench/middleware-cost.mjs [dist] [requests] [rounds]
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [distArg = 'dist', count = '300000', roundsArg = '7'] = process.argv.slice(2)
const dist = path.resolve(distArg)
const load = (p) => import(pathToFileURL(path.join(dist, p)).href)
const { Carafe } = await load('index.js')
const { createNodeHandler } = await load('server/node.js')
const { session } = await load('session/index.js')
let auth = null
try { ({ auth } = await load('auth/index.js')) } catch {}

const users = new Map([[42, { id: 42, name: 'Kim' }]])
const variants = {
  none: () => {},
  noop: (app) => app.use((c, next) => next()),
  plugin: (app) => app.use({ middleware: (c, next) => next() }),
  session: (app) => app.use(session()),
  ...(auth ? { auth: (app) => { app.use(session()); app.use(auth({ loadUser: (id) => users.get(id) })) } } : {}),
}

function makeRunner(setup) {
  const app = new Carafe({ templates: false, secrets: 'middleware-cost-secret-0123456789abcdef' })
  setup(app)
  app.get('/hello', (c) => c.text('Hello, World!'))
  const handler = createNodeHandler(app, { log: null, maxUrlLength: 8192, state: { closing: false, open: 1 } })
  const socket = { remoteAddress: '127.0.0.1' }
  let pending = 0
  let wake = null
  const res = {
    writeHead() {},
    end() { if (--pending === 0 && wake !== null) { const w = wake; wake = null; w() } },
    once() {}, on() {}, closed: false, shouldKeepAlive: true, headersSent: false,
    setHeader() {}, getHeader() {}, cork() {}, uncork() {},
  }
  return async (n) => {
    for (let i = 0; i < n; i += 1000) {
      const batch = Math.min(1000, n - i)
      const done = new Promise((r) => { wake = r })
      pending = batch
      for (let j = 0; j < batch; j++) {
        const req = { url: '/hello', method: 'GET', headers: { host: 'localhost:8080', 'user-agent': 'wrk' }, rawHeaders: ['Host', 'localhost:8080', 'User-Agent', 'wrk'], socket }
        handler(req, res)
      }
      if (pending > 0) await done
      else wake = null
    }
  }
}

const runners = Object.fromEntries(Object.entries(variants).map(([k, setup]) => [k, makeRunner(setup)]))
const n = Number(count)
const results = Object.fromEntries(Object.keys(runners).map((k) => [k, []]))
for (const r of Object.values(runners)) await r(50_000)
for (let round = 0; round < Number(roundsArg); round++) {
  for (const [k, r] of Object.entries(runners)) {
    const before = process.cpuUsage()
    await r(n)
    const used = process.cpuUsage(before)
    results[k].push(((used.user + used.system) * 1000) / n)
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
const m = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, median(xs)]))
for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(8)} ${v.toFixed(0).padStart(6)} ns/request`)
console.log(`noop − none      ${(m.noop - m.none).toFixed(0)} ns (one middleware)`)
console.log(`plugin − noop    ${(m.plugin - m.noop).toFixed(0)} ns (the same middleware as a plugin)`)
console.log(`session − noop   ${(m.session - m.noop).toFixed(0)} ns (session(), request without a cookie; bound: 1000)`)
if (m.auth !== undefined) console.log(`auth − noop      ${(m.auth - m.noop).toFixed(0)} ns (session() + auth(), no cookie)`)
