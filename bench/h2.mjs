// HTTP/2 over TLS: Carafe (`carafe serve --cert --key`), Fastify (http2 + @fastify/static)
// and nginx (`listen ... ssl http2`) serving the same 1 KiB file, loaded with h2load.
// Prints req/s, the server's CPU µs per request (utime + stime of its process tree, from
// /proc) and both as ratios to Fastify. See README.md ("HTTP/2").
//
//   node bench/h2.mjs [--duration S] [--clients N] [--streams M] [--rounds R] [--only a,b]
//
// Needs h2load (Debian nghttp2-client), openssl, taskset; `bash bench/setup.sh` installs them
// and Fastify. The certificate is made once per run with openssl into a temp folder.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const ROOT = join(BENCH_DIR, '..')
const NGINX = '/usr/sbin/nginx'
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    streams: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    'server-cpu': { type: 'string', default: '1' },
    'load-cpu': { type: 'string', default: '0' },
  },
})

for (const tool of ['h2load', 'openssl', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench h2: ${tool} is missing (bash bench/setup.sh installs it; h2load is in Debian's nghttp2-client)`)
    process.exit(1)
  }
}
if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
  console.error('bench h2: build Carafe first (npm run build)')
  process.exit(1)
}

const tmp = mkdtempSync(join(tmpdir(), 'carafe-bench-h2-'))
const live = new Set()
const cleanup = () => {
  for (const child of live) try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone */ }
  rmSync(tmp, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

// One certificate for every server, and the 1 KiB file.
const CERT = join(tmp, 'cert.pem')
const KEY = join(tmp, 'key.pem')
const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-keyout', KEY, '-out', CERT, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' })
if (made.status !== 0) {
  console.error(`bench h2: openssl failed:\n${made.stderr}`)
  process.exit(1)
}
const WWW = join(tmp, 'www')
mkdirSync(WWW)
const FILE_BODY = 'x'.repeat(1023) + '\n'
writeFileSync(join(WWW, 'file1k.txt'), FILE_BODY)

const SERVERS = [
  {
    name: 'carafe-serve',
    command: process.execPath,
    args: [join(ROOT, 'dist/cli/main.js'), 'serve', '-q', '-b', '127.0.0.1', '-p', '{PORT}', '--cert', CERT, '--key', KEY, WWW],
    readyText: 'Serving HTTPS',
  },
  {
    name: 'fastify',
    command: process.execPath,
    args: [join(BENCH_DIR, 'servers/fastify-h2.mjs')],
    env: { TLS_CERT: CERT, TLS_KEY: KEY, WWW },
    readyText: 'listening',
    available: () => existsSync(join(BENCH_DIR, 'node_modules/@fastify/static')) || 'bench/node_modules has no @fastify/static (run bash bench/setup.sh)',
  },
  {
    // The same from memory by a route, as fastify-mem does: the door's own HTTP/2 cost.
    name: 'carafe-mem',
    command: process.execPath,
    args: [join(BENCH_DIR, 'servers/carafe-h2-mem.mjs')],
    env: { TLS_CERT: CERT, TLS_KEY: KEY, WWW },
    readyText: 'listening',
  },
  {
    // Not how Fastify serves files: the 1 KiB held in memory and sent by a route (Fastify's best case).
    name: 'fastify-mem',
    command: process.execPath,
    args: [join(BENCH_DIR, 'servers/fastify-h2.mjs')],
    env: { TLS_CERT: CERT, TLS_KEY: KEY, WWW, BENCH_MEM: '1' },
    readyText: 'listening',
    available: () => existsSync(join(BENCH_DIR, 'node_modules/fastify')) || 'bench/node_modules has no fastify (run bash bench/setup.sh)',
  },
  {
    name: 'nginx',
    command: NGINX,
    args: ['-p', '{TMP}/', '-c', '{TMP}/nginx.conf', '-e', '{TMP}/error.log'],
    ready: 'port',
    prepare: writeNginxConf,
    available: () => existsSync(NGINX) || `${NGINX} is missing (apt-get install nginx-light)`,
  },
]

function writeNginxConf(port, dir) {
  const info = spawnSync(NGINX, ['-V'], { encoding: 'utf8' }).stderr ?? ''
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((m) => m === 'client_body' || !info.includes(`--without-http_${m}_module`))
    .map((m) => `    ${m}_temp_path ${dir}/${m}_temp;`)
    .join('\n')
  const conf = readFileSync(join(BENCH_DIR, 'static/nginx-h2.conf.template'), 'utf8')
    .replaceAll('{TEMP_PATHS}', tempPaths)
    .replaceAll('{PORT}', String(port))
    .replaceAll('{ROOT}', WWW)
    .replaceAll('{TMP}', dir)
    .replaceAll('{CERT}', CERT)
    .replaceAll('{KEY}', KEY)
  writeFileSync(join(dir, 'nginx.conf'), conf)
}

// ---------------------------------------------------------------- /proc

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) }
  } catch {
    return null
  }
}

/** utime + stime in clock ticks over `root` and its descendants. */
function cpuTicks(root) {
  const children = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const st = readStat(name)
    if (st !== null) children.set(st.ppid, [...(children.get(st.ppid) ?? []), Number(name)])
  }
  let ticks = 0
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.shift()
    ticks += readStat(pid)?.ticks ?? 0
    queue.push(...(children.get(pid) ?? []))
  }
  return ticks
}
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100)

// ---------------------------------------------------------------- run

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function start(server) {
  const port = await freePort()
  const dir = mkdtempSync(join(tmp, `${server.name}-`))
  server.prepare?.(port, dir)
  const args = server.args.map((a) => a.replaceAll('{PORT}', String(port)).replaceAll('{TMP}', dir))
  const child = spawn('taskset', ['-c', opts['server-cpu'], server.command, ...args], {
    env: { ...process.env, ...server.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  live.add(child)
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${server.name} exited:\n${out}`)
    if (Date.now() > deadline) throw new Error(`${server.name} not ready:\n${out}`)
    if (server.ready === 'port' ? check(port) : out.includes(server.readyText)) break
    await new Promise((r) => setTimeout(r, 50))
  }
  return { child, port, stop: () => { try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone */ } live.delete(child) } }
}

function check(port) {
  const r = spawnSync('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${port}/file1k.txt`], { encoding: 'utf8' })
  return r.stdout === '200'
}

/** Check the answer (HTTP/2, 200, the exact body), then load it; req/s and CPU µs per request. */
async function measure(server) {
  const s = await start(server)
  try {
    const probe = spawnSync('curl', ['-sk', '--http2', '-w', '\n%{http_code} %{http_version}', `https://127.0.0.1:${s.port}/file1k.txt`], { encoding: 'utf8' })
    if (probe.stdout !== `${FILE_BODY}\n200 2`) throw new Error(`${server.name}: wrong answer: ${JSON.stringify(probe.stdout.slice(-80))}`)
    const url = `https://127.0.0.1:${s.port}/file1k.txt`
    // A short warm-up (JIT, TLS session setup) that is not counted.
    spawnSync('taskset', ['-c', opts['load-cpu'], 'h2load', '-D', '1', '-c', opts.clients, '-m', opts.streams, url], { encoding: 'utf8' })
    const before = cpuTicks(s.child.pid)
    const run = spawnSync('taskset', ['-c', opts['load-cpu'], 'h2load', '-D', opts.duration, '-c', opts.clients, '-m', opts.streams, url], { encoding: 'utf8' })
    const ticks = cpuTicks(s.child.pid) - before
    const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(run.stdout)?.[1] ?? NaN)
    const done = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(run.stdout)
    if (done === null || Number(done[4]) > 0 || !(rps > 0)) throw new Error(`${server.name}: h2load failed:\n${run.stdout}\n${run.stderr}`)
    return { rps, usPerReq: (ticks * TICK_US) / Number(done[3]) }
  } finally {
    s.stop()
  }
}

const only = opts.only?.split(',')
const chosen = SERVERS.filter((s) => only === undefined || only.includes(s.name))
const results = new Map()
for (let round = 0; round < Number(opts.rounds); round++) {
  for (const server of chosen) {
    const ok = server.available?.() ?? true
    if (ok !== true) {
      if (round === 0) console.error(`bench h2: skipping ${server.name}: ${ok}`)
      continue
    }
    const r = await measure(server)
    results.set(server.name, [...(results.get(server.name) ?? []), r])
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = [...results].map(([name, rs]) => ({ name, rps: median(rs.map((r) => r.rps)), us: median(rs.map((r) => r.usPerReq)) }))
const base = rows.find((r) => r.name === 'fastify')
console.log(`\nHTTP/2 over TLS, 1 KiB file: h2load -D ${opts.duration} -c ${opts.clients} -m ${opts.streams}, ${opts.rounds} round(s), server on CPU ${opts['server-cpu']}, h2load on CPU ${opts['load-cpu']}\n`)
console.log('| server | req/s | vs fastify | CPU µs/req | CPU vs fastify |')
console.log('|---|---:|---:|---:|---:|')
for (const r of rows) {
  // Cost ratio as in run.mjs: the baseline's µs per request over this server's (above 1: cheaper).
  const vs = base === undefined ? '-' : (r.rps / base.rps).toFixed(2)
  const cpuVs = base === undefined ? '-' : (base.us / r.us).toFixed(2)
  console.log(`| ${r.name} | ${Math.round(r.rps)} | ${vs} | ${r.us.toFixed(1)} | ${cpuVs} |`)
}
