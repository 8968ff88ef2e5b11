// Carafe over TLS with HTTP/2 (and HTTP/1.1 through ALPN), sending the 1 KiB file from memory
// by a route: the counterpart of fastify-h2.mjs with BENCH_MEM=1, for bench/h2.mjs.
// Environment: PORT, TLS_CERT, TLS_KEY (PEM files), WWW.
import { readFileSync } from 'node:fs'

const { Carafe } = await import('../../dist/index.js')
const body = readFileSync(`${process.env.WWW}/file1k.txt`)
const app = new Carafe()
app.get('/file1k.txt', (c) => c.body(body, 200, 'text/plain; charset=utf-8'))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1', tls: { certFile: process.env.TLS_CERT, keyFile: process.env.TLS_KEY } })
console.log('listening')
