// Time from process start to the first answered request, for Carafe and its peers.
//
//   node bench/startup/run.mjs [--runs N]
//
// Each run spawns the server fresh and polls GET / every 2 ms until it answers 200; the
// figure is the median over N runs (default 15), interleaved across servers.
import { spawn } from 'node:child_process'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeFixtures, WWW_DIR } from '../static/make-fixtures.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15

const servers = [
  { name: 'carafe run hello.ts (TypeScript, no build)', args: [path.join(root, 'dist/cli/main.js'), 'run', path.join(root, 'examples/hello.ts'), '--log', 'off'], url: '/' },
  { name: 'carafe (compiled JS, node app.mjs)', args: [path.join(root, 'bench/servers/carafe.mjs')], url: '/hello' },
  { name: 'raw node:http', args: [path.join(root, 'bench/servers/node.mjs')], url: '/hello' },
  { name: 'hono on @hono/node-server', args: [path.join(root, 'bench/servers/hono.mjs')], url: '/hello' },
  { name: 'fastify', args: [path.join(root, 'bench/servers/fastify.mjs')], url: '/hello' },
  { name: 'express', args: [path.join(root, 'bench/servers/express.mjs')], url: '/hello' },
  // Static-file servers, asked for a 1 KiB file of bench/static/www.
  { name: 'carafe serve (a folder)', args: [path.join(root, 'dist/cli/main.js'), 'serve', WWW_DIR, '--port', '{PORT}', '-b', '127.0.0.1', '-q'], url: '/file-1k.txt' },
  { name: 'python3 -m http.server', command: '/usr/bin/python3', args: ['-m', 'http.server', '{PORT}', '--bind', '127.0.0.1', '--directory', WWW_DIR], url: '/file-1k.txt' },
]

function probe(port, url) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: url, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200))
    })
    req.on('error', () => resolve(false))
  })
}

async function once(server, port) {
  const started = process.hrtime.bigint()
  const args = server.args.map((a) => a.replaceAll('{PORT}', String(port)))
  const child = spawn(server.command ?? process.execPath, args, { env: { ...process.env, BENCH_SCENARIO: 'hello', PORT: String(port), CARAFE_PORT: String(port), CARAFE_HOST: '127.0.0.1' }, stdio: 'ignore' })
  try {
    for (;;) {
      if (await probe(port, server.url)) return Number(process.hrtime.bigint() - started) / 1e6
      if (child.exitCode !== null) throw new Error(`${server.name} exited with ${child.exitCode}`)
      if (Number(process.hrtime.bigint() - started) > 10e9) throw new Error(`${server.name} did not answer in 10 s`)
      await new Promise((r) => setTimeout(r, 2))
    }
  } finally {
    child.kill('SIGKILL')
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)))
  }
}

makeFixtures()
const times = new Map(servers.map((s) => [s.name, []]))
let port = 19_000 + Math.floor(Math.random() * 1000)
for (let i = 0; i < runs; i++) {
  for (const server of servers) times.get(server.name).push(await once(server, port++))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`\nTime to first answered request (median of ${runs} runs, ${new Date().toISOString().slice(0, 10)}, node ${process.version})\n`)
console.log('| server | first response (ms) | min | max |')
console.log('| --- | ---: | ---: | ---: |')
for (const [name, xs] of times) console.log(`| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`)
