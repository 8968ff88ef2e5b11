// Fastify 5 over TLS with HTTP/2 (and HTTP/1.1 through ALPN), serving a folder with
// @fastify/static, for bench/h2.mjs. Environment: PORT, TLS_CERT, TLS_KEY (PEM files), WWW.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'

const app = Fastify({
  logger: false,
  http2: true,
  https: { allowHTTP1: true, cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) },
})
if (process.env.BENCH_MEM === '1') {
  // The file read once and sent from memory by a route: Fastify's best case for this scenario.
  const body = readFileSync(`${process.env.WWW}/file1k.txt`)
  app.get('/file1k.txt', (req, reply) => reply.type('text/plain; charset=utf-8').send(body))
} else await app.register(fastifyStatic, { root: process.env.WWW })
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
console.log('listening')
