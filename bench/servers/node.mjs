// Baseline: raw node:http with a hand-written minimal router (a Map for static paths,
// a per-method list of segment patterns for the rest). Every ratio is against this.
import { createServer } from 'node:http'
import { routes, portFromEnv, TEXT_TYPE, HELLO_BODY, FILLER_BODY } from './routes.mjs'
import { VALIDATE_PATH, WANT_VALIDATE, loadZodSchema } from './validate.mjs'

const zodSchema = WANT_VALIDATE ? await loadZodSchema() : null

const port = portFromEnv()

function sendText(res, status, body) {
  res.writeHead(status, { 'content-type': TEXT_TYPE, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function sendJson(res, value) {
  const body = JSON.stringify(value)
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

const handlers = {
  hello: (req, res) => sendText(res, 200, HELLO_BODY),
  json: (req, res, p) => sendJson(res, { userId: p.userId, postId: p.postId }),
  greet: (req, res, p) => sendText(res, 200, `Hello, ${p.name}`),
  filler: (req, res) => sendText(res, 200, FILLER_BODY),
}

const staticRoutes = new Map() // method -> Map(path -> handler)
const paramRoutes = new Map() // method -> [{ segments, names, handler }]
for (const { method, path, kind } of routes) {
  const handler = handlers[kind]
  if (!staticRoutes.has(method)) {
    staticRoutes.set(method, new Map())
    paramRoutes.set(method, [])
  }
  if (!path.includes(':')) {
    staticRoutes.get(method).set(path, handler)
    continue
  }
  // segments: a literal string, or null where a parameter goes; names: the parameter names.
  const parts = path.split('/')
  const segments = parts.map((s) => (s.startsWith(':') ? null : s))
  const names = parts.filter((s) => s.startsWith(':')).map((s) => s.slice(1))
  paramRoutes.get(method).push({ segments, names, handler })
}

function matches(segments, parts) {
  if (segments.length !== parts.length) return false
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]
    if (seg === null ? parts[i] === '' : seg !== parts[i]) return false
  }
  return true
}

function extractParams({ segments, names }, parts) {
  const params = {}
  let n = 0
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] !== null) continue
    const part = parts[i]
    params[names[n++]] = part.includes('%') ? decodeURIComponent(part) : part
  }
  return params
}

function dispatch(req, res) {
  const url = req.url
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const exact = staticRoutes.get(req.method)?.get(path)
  if (exact !== undefined) return exact(req, res, null)
  const candidates = paramRoutes.get(req.method)
  if (candidates !== undefined) {
    const parts = path.split('/')
    for (const route of candidates) {
      if (matches(route.segments, parts)) return route.handler(req, res, extractParams(route, parts))
    }
  }
  sendText(res, 404, 'Not Found')
}

/** Read the body, parse it, validate it with the shared zod schema, echo it. */
function validate(req, res) {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    let value
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      return sendText(res, 400, 'Bad JSON')
    }
    const result = zodSchema.safeParse(value)
    if (!result.success) return sendText(res, 400, 'Invalid')
    sendJson(res, result.data)
  })
}

function handle(req, res) {
  if (zodSchema !== null && req.method === 'POST' && req.url === VALIDATE_PATH) return validate(req, res)
  try {
    dispatch(req, res)
  } catch {
    sendText(res, 400, 'Bad Request') // a malformed percent-escape
  }
}

// BENCH_NODE_BATCH=1 (the 'node-batched' server): handle each request at the end of the
// event-loop turn, all of a turn's requests together, as Carafe's Node door writes its
// responses. Not what plain node:http code does; there to show what that batching alone
// is worth, apart from the rest of Carafe.
let batch = null
function runBatch() {
  const list = batch
  batch = null
  for (let i = 0; i < list.length; i += 2) handle(list[i], list[i + 1])
}
const batched = (req, res) => {
  if (batch === null) {
    batch = []
    setImmediate(runBatch)
  }
  batch.push(req, res)
}

const server = createServer(process.env.BENCH_NODE_BATCH === '1' ? batched : handle)
server.listen(port, '127.0.0.1', () => console.log(`node listening on 127.0.0.1:${port}`))
