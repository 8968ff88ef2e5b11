// Baseline: raw node:http with a hand-written minimal router (a Map for static paths,
// a per-method list of segment patterns for the rest). Every ratio is against this.
import { createServer } from 'node:http'
import { routes, portFromEnv, TEXT_TYPE, HELLO_BODY, FILLER_BODY } from './routes.mjs'

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

const staticRoutes = new Map() // 'GET /hello' -> handler
const paramRoutes = new Map() // 'GET' -> [{ segments, handler }]
for (const { method, path, kind } of routes) {
  const handler = handlers[kind]
  if (!path.includes(':')) {
    staticRoutes.set(`${method} ${path}`, handler)
    continue
  }
  const segments = path.split('/').map((s) => (s.startsWith(':') ? { name: s.slice(1) } : s))
  if (!paramRoutes.has(method)) paramRoutes.set(method, [])
  paramRoutes.get(method).push({ segments, handler })
}

function matchParams(segments, parts) {
  if (segments.length !== parts.length) return null
  const params = {}
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]
    const part = parts[i]
    if (typeof seg === 'string') {
      if (seg !== part) return null
    } else {
      if (part === '') return null
      params[seg.name] = part.includes('%') ? decodeURIComponent(part) : part
    }
  }
  return params
}

function dispatch(req, res) {
  const url = req.url
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const exact = staticRoutes.get(`${req.method} ${path}`)
  if (exact !== undefined) return exact(req, res, null)
  const candidates = paramRoutes.get(req.method)
  if (candidates !== undefined) {
    const parts = path.split('/')
    for (const { segments, handler } of candidates) {
      const params = matchParams(segments, parts)
      if (params !== null) return handler(req, res, params)
    }
  }
  sendText(res, 404, 'Not Found')
}

const server = createServer((req, res) => {
  try {
    dispatch(req, res)
  } catch {
    sendText(res, 400, 'Bad Request') // a malformed percent-escape
  }
})
server.listen(port, '127.0.0.1', () => console.log(`node listening on 127.0.0.1:${port}`))
