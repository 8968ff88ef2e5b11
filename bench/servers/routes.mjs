// The route table every benchmark server registers, in this order.
//
// Each entry is { method, path, kind }. `kind` says which handler a server attaches:
//   hello  -> text 'Hello, World!'
//   json   -> JSON { userId, postId } from the two params
//   greet  -> text `Hello, ${name}` with the name percent-decoded
//   filler -> text 'ok' (never measured; it only makes the router do real work)
//
// /hello comes first, then a 50-route table: 48 filler routes with the measured
// /users/:userId/posts/:postId and /greet/:name declared late in it, so a router that
// scans in declaration order pays for it the way a real app would.

const FILLER_SHAPES = [
  ['GET', (i) => `/api/v1/resource${i}/:id`],
  ['POST', (i) => `/api/v1/resource${i}`],
  ['GET', (i) => `/api/v1/items${i}`],
  ['PUT', (i) => `/api/v1/resource${i}/:id`],
  ['DELETE', (i) => `/api/v1/resource${i}/:id`],
  ['GET', (i) => `/api/v1/resource${i}/:id/comments`],
]

function fillerRoutes(count) {
  const routes = []
  for (let i = 0; routes.length < count; i++) {
    for (const [method, path] of FILLER_SHAPES) {
      if (routes.length === count) break
      routes.push({ method, path: path(i), kind: 'filler' })
    }
  }
  return routes
}

function buildTable() {
  const table = fillerRoutes(48)
  table.splice(40, 0, { method: 'GET', path: '/users/:userId/posts/:postId', kind: 'json' })
  table.splice(45, 0, { method: 'GET', path: '/greet/:name', kind: 'greet' })
  return [{ method: 'GET', path: '/hello', kind: 'hello' }, ...table]
}

export const routes = buildTable()

export const TEXT_TYPE = 'text/plain; charset=utf-8'
export const HELLO_BODY = 'Hello, World!'
export const FILLER_BODY = 'ok'

/** Port from the environment; every server exits loudly without one. */
export function portFromEnv() {
  const port = Number(process.env.PORT)
  if (!Number.isInteger(port) || port <= 0) {
    console.error('PORT must be set to a port number')
    process.exit(2)
  }
  return port
}
