// Fastify 5 with its defaults (no logger).
import Fastify from 'fastify'
import { routes, portFromEnv, TEXT_TYPE, HELLO_BODY, FILLER_BODY } from './routes.mjs'
import { VALIDATE_PATH, jsonSchema } from './validate.mjs'

const port = portFromEnv()

const handlers = {
  hello(req, reply) {
    reply.type(TEXT_TYPE).send(HELLO_BODY)
  },
  json(req, reply) {
    reply.send({ userId: req.params.userId, postId: req.params.postId })
  },
  greet(req, reply) {
    reply.type(TEXT_TYPE).send(`Hello, ${req.params.name}`)
  },
  filler(req, reply) {
    reply.type(TEXT_TYPE).send(FILLER_BODY)
  },
}

const app = Fastify({ logger: false })
for (const { method, path, kind } of routes) {
  app.route({ method, url: path, handler: handlers[kind] })
}

// Fastify's own way: a JSON Schema compiled by Ajv, plus a response schema for fast serialization.
app.post(VALIDATE_PATH, { schema: { body: jsonSchema, response: { 200: jsonSchema } } }, (req) => req.body)

app.listen({ port, host: '127.0.0.1' }, (err) => {
  if (err) {
    console.error(err)
    process.exit(1)
  }
  console.log(`fastify listening on 127.0.0.1:${port}`)
})
