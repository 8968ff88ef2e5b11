// Carafe, from the compiled package (run `npm run build` at the repo root first), or from
// the dist/ folder CARAFE_DIST names (an older build, for old-against-new runs).
import { pathToFileURL } from 'node:url'
import { routes, portFromEnv, HELLO_BODY, FILLER_BODY } from './routes.mjs'
import { VALIDATE_PATH, WANT_VALIDATE, loadZodSchema } from './validate.mjs'

const { Carafe } = await import(process.env.CARAFE_DIST ? pathToFileURL(`${process.env.CARAFE_DIST}/index.js`).href : '../../dist/index.js')
const port = portFromEnv()

const handlers = {
  hello: (c) => c.text(HELLO_BODY),
  json: (c) => ({ userId: c.params.userId, postId: c.params.postId }),
  greet: (c) => c.text(`Hello, ${c.params.name}`),
  filler: (c) => c.text(FILLER_BODY),
}

const app = new Carafe()
for (const { method, path, kind } of routes) {
  app[method.toLowerCase()](path, handlers[kind])
}

if (WANT_VALIDATE) {
  const schema = await loadZodSchema()
  app.post(VALIDATE_PATH, (c) => c.valid('json', schema))
}

app
  .listen({ port, host: '127.0.0.1', log: process.env.CARAFE_BENCH_LOG ?? false })
  .then(() => console.log(`carafe listening on 127.0.0.1:${port}`))
  .catch((err) => {
    console.error(err)
    process.exit(1)
  })
