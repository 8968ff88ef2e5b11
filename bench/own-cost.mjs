// Carafe's own cost per request on the Node door, without Node's HTTP machinery or system
// calls: fake req/res objects through createNodeHandler, the bench's 51-route table, one
// connection (no batching). JS only, so a change to Carafe's request path shows here even
// when the machine is too noisy for wrk to see it. Interleave builds and repeat:
//   node bench/own-cost.mjs dist json 1000000       (hello | json | greet)
//   node bench/own-cost.mjs /tmp/base/dist json     (an older build, to compare)
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { routes, HELLO_BODY, FILLER_BODY } from './servers/routes.mjs'

const [distArg = 'dist', which = 'json', count = '1000000'] = process.argv.slice(2)
const dist = path.resolve(distArg)
const load = (p) => import(pathToFileURL(path.join(dist, p)).href)
const { Carafe } = await load('index.js')
const { createNodeHandler } = await load('server/node.js')

const handlers = {
  hello: (c) => c.text(HELLO_BODY),
  json: (c) => ({ userId: c.params.userId, postId: c.params.postId }),
  greet: (c) => c.text(`Hello, ${c.params.name}`),
  filler: (c) => c.text(FILLER_BODY),
}
const app = new Carafe({ templates: false })
for (const { method, path: p, kind } of routes) app[method.toLowerCase()](p, handlers[kind])
const url = { hello: '/hello', json: '/users/1234/posts/5678', greet: '/greet/%EB%82%98%EC%9D%98%20%EB%B9%84%EB%B0%80%20%EB%B0%A9' }[which]
if (url === undefined) throw new Error(`unknown scenario ${which}: hello, json or greet`)
const handler = createNodeHandler(app, { log: null, maxUrlLength: 8192, state: { closing: false, open: 1 } })

const socket = { remoteAddress: '127.0.0.1' }
let written = 0
const res = {
  writeHead(status) { written += status },
  end(body) { written += body === undefined ? 0 : body.length },
  once() {},
  closed: false,
  shouldKeepAlive: true,
  headersSent: false,
}
function run(n) {
  for (let i = 0; i < n; i++) {
    const req = { url, method: 'GET', headers: { host: 'localhost:8080', 'user-agent': 'wrk' }, rawHeaders: ['Host', 'localhost:8080', 'User-Agent', 'wrk'], socket }
    handler(req, res)
  }
}
run(200_000)
const n = Number(count)
const before = process.cpuUsage()
run(n)
const used = process.cpuUsage(before)
if (written === 0) throw new Error('nothing was written: the fake response does not fit this build')
console.log(`${which} ${dist}: ${(((used.user + used.system) * 1000) / n).toFixed(0)} ns/request of Carafe's own code`)
