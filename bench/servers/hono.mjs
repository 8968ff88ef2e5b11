// Hono 4 on @hono/node-server, written the way Hono's docs write it (c.text, c.json).
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { routes, portFromEnv, HELLO_BODY, FILLER_BODY } from './routes.mjs'
import { VALIDATE_PATH, WANT_VALIDATE, loadZodSchema } from './validate.mjs'

const port = portFromEnv()

const handlers = {
  hello: (c) => c.text(HELLO_BODY),
  json: (c) => c.json({ userId: c.req.param('userId'), postId: c.req.param('postId') }),
  greet: (c) => c.text(`Hello, ${c.req.param('name')}`),
  filler: (c) => c.text(FILLER_BODY),
}

const app = new Hono()
for (const { method, path, kind } of routes) {
  app.on(method, path, handlers[kind])
}

if (WANT_VALIDATE) {
  const { zValidator } = await import('@hono/zod-validator')
  const schema = await loadZodSchema()
  app.post(VALIDATE_PATH, zValidator('json', schema), (c) => c.json(c.req.valid('json')))
}

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  console.log(`hono listening on 127.0.0.1:${port}`)
})
