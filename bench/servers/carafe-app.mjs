// The benchmark routes as an app module that exports the app and does not listen, for
// `carafe start bench/servers/carafe-app.mjs --workers N` (bench/workers.mjs).
import { routes, HELLO_BODY, FILLER_BODY } from './routes.mjs'

const { Carafe } = await import('../../dist/index.js')

const handlers = {
  hello: (c) => c.text(HELLO_BODY),
  json: (c) => ({ userId: c.params.userId, postId: c.params.postId }),
  greet: (c) => c.text(`Hello, ${c.params.name}`),
  filler: (c) => c.text(FILLER_BODY),
}

const app = new Carafe({ secrets: ['bench-secret-not-for-anything-0123456789abcdef'] })
for (const { method, path, kind } of routes) app[method.toLowerCase()](path, handlers[kind])

export default app
