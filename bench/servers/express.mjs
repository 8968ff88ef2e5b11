// Express 5 with its defaults (ETag, X-Powered-By left on, as an app would have them).
import express from 'express'
import { routes, portFromEnv, TEXT_TYPE, HELLO_BODY, FILLER_BODY } from './routes.mjs'
import { VALIDATE_PATH, WANT_VALIDATE, loadZodSchema } from './validate.mjs'

const port = portFromEnv()

const handlers = {
  hello: (req, res) => res.type(TEXT_TYPE).send(HELLO_BODY),
  json: (req, res) => res.json({ userId: req.params.userId, postId: req.params.postId }),
  greet: (req, res) => res.type(TEXT_TYPE).send(`Hello, ${req.params.name}`),
  filler: (req, res) => res.type(TEXT_TYPE).send(FILLER_BODY),
}

const app = express()
for (const { method, path, kind } of routes) {
  app[method.toLowerCase()](path, handlers[kind])
}

if (WANT_VALIDATE) {
  const schema = await loadZodSchema()
  app.post(VALIDATE_PATH, express.json(), (req, res) => {
    const result = schema.safeParse(req.body)
    if (!result.success) return res.status(400).json({ issues: result.error.issues })
    res.json(result.data)
  })
}

app.listen(port, '127.0.0.1', (err) => {
  if (err) {
    console.error(err)
    process.exit(1)
  }
  console.log(`express listening on 127.0.0.1:${port}`)
})
