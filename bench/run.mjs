#!/usr/bin/env node
// Benchmark runner: Carafe and its peers, interleaved rounds, medians, ratios to raw
// node:http. See README.md. Installs nothing; needs wrk and taskset on PATH.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect, createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { scenarios as allScenarios, servers as allServers } from './config.mjs'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const RESULTS_FILE = join(BENCH_DIR, 'results', 'latest.json')
const READY_TIMEOUT_MS = 15_000
const IDLE_MS = 300
const SETTLE_MS = 300
// The ratio column compares with this server, unless a scenario names its own `baseline`.
const BASELINE = 'node'

const USAGE = `Usage: node bench/run.mjs [options]

  --only a,b          servers to run (default: all): ${allServers.map((s) => s.name).join(', ')}
  --scenarios a,b     scenarios to run (default: all): ${allScenarios.map((s) => s.name).join(', ')}
  --rounds N          interleaved rounds; medians are taken over them (default 3)
  --duration S        seconds of measured load per run (default 5)
  --warmup S          seconds of warm-up load per run (default 2)
  --connections N     wrk connections (default 50)
  --server-cpu N      CPU the server is pinned to (default 1)
  --load-cpu N        CPU wrk is pinned to (default 0)
  -h, --help          this text`

// ---------------------------------------------------------------- process bookkeeping
// Every child we start is in `live` until it has exited, and every exit path of this
// process (normal end, error, Ctrl+C, SIGTERM, SIGHUP) kills what is left.

/** @type {Set<{ child: import('node:child_process').ChildProcess, group: boolean }>} */
const live = new Set()
let tempDir = null

function killNow(entry, signal) {
  const { child, group } = entry
  if (child.exitCode !== null || child.signalCode !== null) return
  const pids = group ? treePids(child.pid) : [child.pid]
  if (group) trySignal(-child.pid, signal)
  for (const pid of pids) trySignal(pid, signal)
}

function trySignal(pid, signal) {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/** SIGKILL everything still running; returns a promise that settles when all have exited. */
function killAllNow() {
  const children = [...live].map((entry) => entry.child)
  const exited = children.map((child) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => child.once('exit', resolve)),
  )
  for (const entry of live) killNow(entry, 'SIGKILL')
  live.clear()
  if (tempDir) rmSync(tempDir, { recursive: true, force: true })
  tempDir = null
  return Promise.all(exited)
}

process.on('exit', killAllNow) // last resort: synchronous, cannot wait for the exits
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, async () => {
    process.stderr.write(`\n${signal}: stopping every server this run started\n`)
    // Wait (briefly) until they are reaped, so none is left behind even as a zombie.
    await Promise.race([killAllNow(), sleep(2000)])
    process.exit(code)
  })
}

/** The run's temp folder (wrk scripts, server config files); removed when the run ends. */
function runTempDir() {
  tempDir ??= join(tmpdir(), `carafe-bench-${process.pid}`)
  mkdirSync(tempDir, { recursive: true })
  return tempDir
}

function track(child, group) {
  const entry = { child, group }
  live.add(entry)
  child.once('exit', () => live.delete(entry))
  return entry
}

// ---------------------------------------------------------------- /proc readers

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) }
  } catch {
    return null // exited meanwhile
  }
}

/** The PID and all its descendants, found through the ppid links in /proc. */
function treePids(root) {
  const children = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(name)
    if (stat === null) continue
    if (!children.has(stat.ppid)) children.set(stat.ppid, [])
    children.get(stat.ppid).push(Number(name))
  }
  const pids = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.shift()
    pids.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return pids
}

/** utime + stime in clock ticks, summed over the process tree. */
function cpuTicks(root) {
  let ticks = 0
  for (const pid of treePids(root)) {
    const stat = readStat(pid)
    if (stat !== null) ticks += stat.utime + stat.stime
  }
  return ticks
}

/** VmRSS in KiB, summed over the process tree. */
function rssKiB(root) {
  let kib = 0
  for (const pid of treePids(root)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (match) kib += Number(match[1])
    } catch {
      // exited meanwhile
    }
  }
  return kib
}

// ---------------------------------------------------------------- small helpers

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

function commandOutput(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim()
}

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function shuffle(items) {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

function fail(message) {
  console.error(`\nbench: ${message}`)
  process.exit(1)
}

// ---------------------------------------------------------------- options

function readOptions() {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        only: { type: 'string' },
        scenarios: { type: 'string' },
        rounds: { type: 'string', default: '3' },
        duration: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '2' },
        connections: { type: 'string', default: '50' },
        'server-cpu': { type: 'string', default: '1' },
        'load-cpu': { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    fail(`${err.message}\n\n${USAGE}`)
  }
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const positive = (name, min = 1) => {
    const n = Number(values[name])
    if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}`)
    return n
  }
  const pick = (list, names, what) => {
    if (names === undefined) return list
    const wanted = names.split(',').map((s) => s.trim()).filter(Boolean)
    const unknown = wanted.filter((n) => !list.some((item) => item.name === n))
    if (unknown.length > 0) {
      fail(`unknown ${what}: ${unknown.join(', ')} (known: ${list.map((i) => i.name).join(', ')})`)
    }
    return list.filter((item) => wanted.includes(item.name))
  }
  return {
    servers: pick(allServers, values.only, 'server'),
    scenarios: pick(allScenarios, values.scenarios, 'scenario'),
    rounds: positive('rounds'),
    duration: positive('duration'),
    warmup: positive('warmup', 0),
    connections: positive('connections'),
    serverCpu: positive('server-cpu', 0),
    loadCpu: positive('load-cpu', 0),
  }
}

function checkPrerequisites(options) {
  const missing = ['wrk', 'taskset'].filter((tool) => !hasCommand(tool))
  if (missing.length > 0) {
    fail(
      `missing ${missing.join(' and ')}. Install with:\n` +
        `  apt-get install wrk        # wrk\n` +
        `  apt-get install util-linux # taskset\n` +
        `(on macOS there is no taskset: run the benchmark on Linux)`,
    )
  }
  const nproc = Number(commandOutput('nproc', []))
  for (const [flag, cpu] of [['--server-cpu', options.serverCpu], ['--load-cpu', options.loadCpu]]) {
    if (cpu >= nproc) fail(`${flag} ${cpu}: this machine has ${nproc} CPU(s); the bench needs 2`)
  }
  if (options.serverCpu === options.loadCpu) {
    console.error('bench: warning: server and wrk share one CPU; numbers will be poor')
  }
  const problems = []
  // Only the servers that take part in a chosen scenario: a run of the routing scenarios
  // does not need nginx.
  for (const server of options.servers.filter((sv) => options.scenarios.some((sc) => takesPart(sv, sc)))) {
    for (const { path, fix } of server.requires ?? []) {
      const file = resolve(BENCH_DIR, path) // relative to bench/, or absolute
      if (!existsSync(file)) {
        problems.push(`${server.name}: missing ${relative(process.cwd(), file) || file}; run: ${fix}`)
      }
    }
    if (server.command && !hasCommand(server.command)) {
      const hint = server.install ? `; install it with: ${server.install}` : ''
      problems.push(`${server.name}: command ${server.command} not found${hint}`)
    }
  }
  if (problems.length > 0) {
    fail(
      `cannot run these servers:\n  ${problems.join('\n  ')}\n` +
        `(or leave them out with --only, or their scenarios with --scenarios)`,
    )
  }
}

// ---------------------------------------------------------------- servers

async function startServer(server, port, cpu, scenarioName = '') {
  // A fresh folder per start for servers that need files of their own (nginx's config,
  // pid and error log): {TMP} in args, and `prepare` may write into it.
  const needsTmp = server.prepare !== undefined || (server.args ?? []).some((a) => a.includes('{TMP}'))
  const tmp = needsTmp ? mkdtempSync(join(runTempDir(), `${server.name}-`)) : ''
  const fill = (a) => a.replaceAll('{PORT}', String(port)).replaceAll('{TMP}', tmp)
  if (server.prepare) await server.prepare({ port, tmp, benchDir: BENCH_DIR })
  const [command, args] = server.file
    ? [process.execPath, [join(BENCH_DIR, 'servers', server.file)]]
    : [server.command, (server.args ?? []).map(fill)]
  const child = spawn('taskset', ['-c', String(cpu), command, ...args], {
    cwd: server.cwd ? join(BENCH_DIR, server.cwd) : BENCH_DIR,
    // BENCH_SCENARIO lets a server load what only one scenario needs (the validation
    // schema library), so it does not weigh on the idle RSS of the others.
    env: { ...process.env, ...server.env, PORT: String(port), BENCH_SCENARIO: scenarioName },
    // stderr: 'ignore' for a server that logs every request there and cannot be told not
    // to (python -m http.server): /dev/null, instead of the runner reading it under load.
    stdio: ['ignore', 'pipe', server.stderr === 'ignore' ? 'ignore' : 'pipe'],
    detached: true, // its own process group, so we can kill it and its children at once
  })
  const entry = track(child, true)
  entry.tmp = tmp
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${server.name} not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    )
    const done = (err) => {
      clearTimeout(timer)
      if (err) reject(err)
      else resolve()
    }
    child.once('error', done)
    child.once('exit', (code, signal) =>
      done(new Error(`${server.name} exited before it was ready (${signal ?? `code ${code}`})`)),
    )
    if ((server.ready ?? 'stdout') === 'stdout') {
      const readyText = server.readyText ?? 'listening'
      child.stdout.on('data', (chunk) => {
        stdout = (stdout + chunk).slice(-4000)
        if (stdout.includes(readyText)) done()
      })
    } else {
      child.stdout.resume()
      const poll = async () => {
        while (child.exitCode === null) {
          if (await portAccepts(port)) return done()
          await sleep(50)
        }
      }
      poll()
    }
  })
  try {
    await ready
  } catch (err) {
    await stopServer(entry, { keepTmp: true })
    err.message += stderr ? `\n--- ${server.name} stderr ---\n${stderr}` : ''
    err.message += tmp ? logsIn(tmp, server.name) : ''
    if (tmp) rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  child.stdout.removeAllListeners('data')
  child.stdout.resume() // keep draining so a chatty server never blocks on a full pipe
  return entry
}

/** The tail of each *.log file a server wrote into its {TMP} folder (nginx's error log). */
function logsIn(dir, name) {
  let out = ''
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    const text = readFileSync(join(dir, file), 'utf8').slice(-4000)
    if (text) out += `\n--- ${name} ${file} ---\n${text}`
  }
  return out
}

async function stopServer(entry, { keepTmp = false } = {}) {
  const { child } = entry
  const removeTmp = () => {
    if (entry.tmp && !keepTmp) rmSync(entry.tmp, { recursive: true, force: true })
  }
  if (child.exitCode !== null || child.signalCode !== null) {
    removeTmp()
    return
  }
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const pids = treePids(child.pid)
  killNow(entry, 'SIGTERM')
  const timedOut = await Promise.race([exited.then(() => false), sleep(2000).then(() => true)])
  if (timedOut) {
    killNow(entry, 'SIGKILL')
    await exited
  }
  // A descendant that left the process group and outlived the server.
  for (const pid of pids) if (pid !== child.pid && existsSync(`/proc/${pid}`)) trySignal(pid, 'SIGKILL')
  live.delete(entry)
  removeTmp()
}

// ---------------------------------------------------------------- requests and wrk

function checkResponse(port, scenario) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: scenario.path,
        method: scenario.method ?? 'GET',
        headers: { ...scenario.headers, connection: 'close' },
        agent: false,
      },
      (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () => {
          const raw = Buffer.concat(chunks)
          resolve({ status: res.statusCode, body: raw.toString('utf8'), raw, headers: res.headers })
        })
        res.on('error', reject)
      },
    )
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')))
    req.on('error', reject)
    req.end(scenario.body)
  })
}

/** POST to `path` and return the `Cookie` header value the Set-Cookie answers make. */
function loginCookies(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { connection: 'close', 'content-length': 0 }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => {
        const cookies = (res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).filter((pair) => !/=$/.test(pair))
        if (res.statusCode !== 200 || cookies.length === 0) reject(new Error(`login at ${path} gave ${res.statusCode} and ${cookies.length} cookies`))
        else resolve(cookies.join('; '))
      })
    })
    req.setTimeout(5000, () => req.destroy(new Error('no answer to the login within 5 s')))
    req.on('error', reject)
    req.end()
  })
}

/** A Lua string literal holding exactly these UTF-8 bytes. */
function luaString(text) {
  let out = '"'
  for (const byte of Buffer.from(text, 'utf8')) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c
    out += printable ? String.fromCharCode(byte) : `\\${byte}`
  }
  return `${out}"`
}

/** A wrk Lua script for scenarios that are more than a plain GET, else null. */
function wrkScript(scenario) {
  const method = scenario.method ?? 'GET'
  if (method === 'GET' && !scenario.body && !scenario.headers) return null
  runTempDir()
  const lines = [`wrk.method = ${luaString(method)}`]
  if (scenario.body) lines.push(`wrk.body = ${luaString(scenario.body)}`)
  for (const [name, value] of Object.entries(scenario.headers ?? {})) {
    lines.push(`wrk.headers[${luaString(name)}] = ${luaString(String(value))}`)
  }
  const file = join(tempDir, `${scenario.name}.lua`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

function toMs(value, unit) {
  const n = Number(value)
  return { us: n / 1000, ms: n, s: n * 1000, m: n * 60_000 }[unit] ?? NaN
}

function parseWrk(text) {
  const num = (re) => {
    const m = re.exec(text)
    return m ? Number(m[1]) : 0
  }
  const totals = /(\d+) requests in ([\d.]+)(\w+)/.exec(text)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text)
  if (!totals || !rps) throw new Error(`cannot read wrk output:\n${text}`)
  const latency = {}
  for (const m of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) {
    latency[`p${m[1]}`] = toMs(m[2], m[3])
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  return {
    requests: Number(totals[1]),
    seconds: toMs(totals[2], totals[3]) / 1000,
    rps: Number(rps[1]),
    latencyMs: latency,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: socket
      ? { connect: +socket[1], read: +socket[2], write: +socket[3], timeout: +socket[4] }
      : null,
  }
}

function runWrk({ port, scenario, seconds, options }) {
  const script = wrkScript(scenario)
  const args = [
    '-c', String(options.loadCpu), 'wrk',
    '-t1', `-c${options.connections}`, `-d${seconds}s`, '--latency',
    ...(script ? ['-s', script] : []),
    `http://127.0.0.1:${port}${scenario.path}`,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    track(child, false)
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c))
    child.once('error', reject)
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`))
      try {
        resolve(parseWrk(out))
      } catch (err) {
        reject(err)
      }
    })
  })
}

// ---------------------------------------------------------------- one measurement

async function measure(server, scenario, options, clkTck) {
  const port = await freePort()
  const entry = await startServer(server, port, options.serverCpu, scenario.name)
  const pid = entry.child.pid
  try {
    await sleep(IDLE_MS)
    const idleRssKiB = rssKiB(pid)

    // A scenario with `login` runs as a logged-in client: POST there once and send the
    // cookies it sets with every request (the check and all of wrk's).
    if (scenario.login) scenario = { ...scenario, headers: { ...scenario.headers, cookie: await loginCookies(port, scenario.login) } }
    const answer = await checkResponse(port, scenario)
    const verdict = scenario.expect(answer.status, answer.body, answer.headers, answer.raw)
    if (verdict !== true) {
      throw new Error(
        `${server.name} answers ${scenario.name} wrongly: ${verdict}\n` +
          `  ${scenario.method ?? 'GET'} ${scenario.path} -> ${answer.status} ` +
          `${JSON.stringify(answer.headers['content-type'])} ${JSON.stringify(answer.body.slice(0, 300))}`,
      )
    }

    if (options.warmup > 0) {
      const warm = await runWrk({ port, scenario, seconds: options.warmup, options })
      if (warm.non2xx > 0) throw new Error(`${server.name} gave ${warm.non2xx} non-2xx answers in warm-up`)
    }

    const cpuBefore = cpuTicks(pid)
    const load = await runWrk({ port, scenario, seconds: options.duration, options })
    const cpuAfter = cpuTicks(pid)
    if (load.non2xx > 0) {
      throw new Error(`${server.name} gave ${load.non2xx} non-2xx answers under load on ${scenario.name}`)
    }
    if (entry.child.exitCode !== null || entry.child.signalCode !== null) {
      throw new Error(`${server.name} died under load on ${scenario.name}`)
    }

    const cpuUs = ((cpuAfter - cpuBefore) / clkTck) * 1e6
    const errors = load.socketErrors
    const errorCount = errors ? errors.connect + errors.read + errors.write + errors.timeout : 0
    return {
      rps: load.rps,
      requests: load.requests,
      seconds: load.seconds,
      cpuUs,
      cpuUsPerReq: load.requests > 0 ? cpuUs / load.requests : NaN,
      // Share of one CPU the server used under load; well below 100 % means it was not
      // the bottleneck (a busy machine, or wrk), so its req/s says less than its µs/req.
      serverCpuPct: load.seconds > 0 ? cpuUs / 1e4 / load.seconds : NaN,
      idleRssMiB: idleRssKiB / 1024,
      latencyMs: load.latencyMs,
      socketErrors: errorCount > 0 ? errors : null,
    }
  } finally {
    await stopServer(entry)
  }
}

// ---------------------------------------------------------------- report

function fmt(n, digits) {
  if (!Number.isFinite(n)) return '—'
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function summarize(runs, scenarios, servers) {
  return scenarios.map((scenario) => {
    const rows = servers
      .filter((server) => takesPart(server, scenario))
      .map((server) => {
        const mine = runs.filter((r) => r.scenario === scenario.name && r.server === server.name)
        return {
          server: server.name,
          rounds: mine.length,
          rps: median(mine.map((r) => r.rps)),
          cpuUsPerReq: median(mine.map((r) => r.cpuUsPerReq)),
          idleRssMiB: median(mine.map((r) => r.idleRssMiB)),
          serverCpuPct: median(mine.map((r) => r.serverCpuPct)),
          p99Ms: median(mine.map((r) => r.latencyMs.p99)),
          socketErrors: mine.some((r) => r.socketErrors),
        }
      })
    const baseline = scenario.baseline ?? BASELINE
    const base = rows.find((row) => row.server === baseline)
    for (const row of rows) {
      row.ratio = base ? row.rps / base.rps : NaN
      // The cost ratio: the baseline's CPU µs per request over this server's (above 1.00:
      // cheaper per request than the baseline). It holds on a busy machine; req/s does not.
      row.cpuRatio = base ? base.cpuUsPerReq / row.cpuUsPerReq : NaN
    }
    rows.sort((a, b) => b.rps - a.rps)
    return { scenario: scenario.name, method: scenario.method ?? 'GET', path: scenario.path, baseline, rows }
  })
}

function printTables(summary, scenarios) {
  for (const { scenario, method, path, baseline, rows } of summary) {
    const title = scenarios.find((s) => s.name === scenario).title
    console.log(`\n### ${scenario}: ${title}\n\n\`${method} ${path}\`\n`)
    console.log(
      `| server | req/s (median) | vs ${baseline} | CPU µs/req (median) | CPU vs ${baseline} | idle RSS MiB | server CPU % |`,
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const row of rows) {
      const flag = row.socketErrors ? ' (socket errors, see JSON)' : ''
      console.log(
        `| ${row.server}${flag} | ${fmt(row.rps, 0)} | ${fmt(row.ratio, 2)} | ` +
          `${fmt(row.cpuUsPerReq, 1)} | ${fmt(row.cpuRatio, 2)} | ${fmt(row.idleRssMiB, 1)} | ${fmt(row.serverCpuPct, 0)} |`,
      )
    }
  }
}

// ---------------------------------------------------------------- main

function takesPart(server, scenario) {
  return (
    (scenario.servers === undefined || scenario.servers.includes(server.name)) &&
    (server.scenarios === undefined || server.scenarios.includes(scenario.name))
  )
}

async function main() {
  const options = readOptions()
  checkPrerequisites(options)

  const clkTck = Number(commandOutput('getconf', ['CLK_TCK'])) || 100
  const meta = {
    date: new Date().toISOString(),
    nproc: Number(commandOutput('nproc', [])),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    wrk: commandOutput('wrk', ['-v']).split('\n')[0],
    loadavg: loadavg().map((n) => Number(n.toFixed(2))),
  }
  console.log('## Carafe benchmark\n')
  console.log(`- date: ${meta.date}`)
  console.log(`- nproc: ${meta.nproc}`)
  console.log(`- CPU: ${meta.cpu}`)
  console.log(`- node: ${meta.node}`)
  console.log(`- wrk: ${meta.wrk}`)
  console.log(`- load average before the run: ${meta.loadavg.join(', ')}`)
  if (meta.loadavg[0] > 0.5) {
    console.log('- **warning: the machine was not idle; trust CPU µs/req over req/s**')
  }
  console.log(
    `- method: ${options.rounds} interleaved round(s); per run a fresh server on CPU ` +
      `${options.serverCpu}, wrk -t1 -c${options.connections} on CPU ${options.loadCpu}, ` +
      `${options.warmup} s warm-up, ${options.duration} s measured; medians over rounds`,
  )

  // Scenario set-up (the static fixtures), once per run, for scenarios that will run.
  for (const scenario of options.scenarios) {
    if (scenario.prepare && options.servers.some((server) => takesPart(server, scenario))) {
      await scenario.prepare()
    }
  }

  const runs = []
  const total =
    options.rounds *
    options.scenarios.reduce(
      (n, sc) => n + options.servers.filter((sv) => takesPart(sv, sc)).length,
      0,
    )
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of options.scenarios) {
      const order = shuffle(options.servers.filter((server) => takesPart(server, scenario)))
      for (const server of order) {
        const result = await measure(server, scenario, options, clkTck)
        runs.push({ round, scenario: scenario.name, server: server.name, ...result })
        process.stderr.write(
          `[${runs.length}/${total}] round ${round} ${scenario.name} ${server.name}: ` +
            `${fmt(result.rps, 0)} req/s, ${fmt(result.cpuUsPerReq, 1)} µs/req, ` +
            `${fmt(result.idleRssMiB, 1)} MiB, server CPU ${fmt(result.serverCpuPct, 0)} %` +
            (result.socketErrors ? `, socket errors ${JSON.stringify(result.socketErrors)}` : '') +
            '\n',
        )
        await sleep(SETTLE_MS)
      }
    }
  }

  const summary = summarize(runs, options.scenarios, options.servers)
  printTables(summary, options.scenarios)

  mkdirSync(dirname(RESULTS_FILE), { recursive: true })
  const { servers, scenarios, ...settings } = options
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        meta,
        options: {
          ...settings,
          servers: servers.map((s) => s.name),
          scenarios: scenarios.map((s) => s.name),
        },
        summary,
        runs,
      },
      null,
      2,
    )}\n`,
  )
  console.log(`\nRaw results: ${RESULTS_FILE}`)
}

main().then(
  async () => {
    await Promise.race([killAllNow(), sleep(2000)])
    process.exit(0)
  },
  async (err) => {
    await Promise.race([killAllNow(), sleep(2000)])
    fail(err?.stack ?? String(err))
  },
)
