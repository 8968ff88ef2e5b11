#!/usr/bin/env node
// `carafe start --workers 2` against `--workers 1` (and a plain single-process listen(),
// no supervisor) on the hello and json scenarios, side by side in one run: interleaved
// rounds with fresh processes, medians. Server and wrk are NOT pinned (the point is to use
// both cores), so on a 2-core machine wrk competes with the workers; the table says
// requests/s, CPU µs per request summed over the server's whole process tree, and the
// supervisor's own CPU µs per request (it hands connections over; keep-alive connections
// cost it nothing after that).
//
//   node bench/workers.mjs [--rounds 5] [--duration 5] [--connections 50]
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' }, warmup: { type: 'string', default: '2' } } })
const rounds = Number(values.rounds)
const duration = Number(values.duration)
const warmup = Number(values.warmup)
const connections = Number(values.connections)
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100)
const CLI = join(here, '..', 'dist', 'cli', 'main.js')
const APP = join(here, 'servers', 'carafe-app.mjs')
const SCENARIOS = { hello: '/hello', json: '/users/42/posts/7' }

const SERVERS = {
  'listen (1 process)': (port) => [process.execPath, [join(here, 'servers', 'carafe.mjs')], { PORT: String(port) }, /listening/],
  'start --workers 1': (port) => [process.execPath, [CLI, 'start', APP, '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--log', 'off'], {}, /\) ready/],
  'start --workers 2': (port) => [process.execPath, [CLI, 'start', APP, '--host', '127.0.0.1', '--port', String(port), '--workers', '2', '--log', 'off'], {}, /(?:[^]*?\) ready){2}/],
}

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }
  } catch { return null }
}
function tree(root) {
  const kids = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = stat(name)
    if (s !== null) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), Number(name)])
  }
  const out = []
  const queue = [root]
  while (queue.length > 0) { const p = queue.shift(); out.push(p); queue.push(...(kids.get(p) ?? [])) }
  return out
}
const ticksOf = (pids) => pids.reduce((sum, p) => sum + (stat(p)?.ticks ?? 0), 0)

let nextPort = 9700
async function startServer(name) {
  const port = nextPort++
  const [cmd, args, env, ready] = SERVERS[name](port)
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  await new Promise((resolve, reject) => {
    const on = (d) => { out += d; if (ready.test(out)) resolve() }
    child.stdout.on('data', on)
    child.stderr.on('data', on)
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}): ${out}`)))
    setTimeout(() => reject(new Error(`${name} did not start: ${out}`)), 20_000)
  })
  return { child, port }
}

function wrk(port, path, seconds) {
  const r = spawnSync('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout)
  const total = /(\d+) requests in/.exec(r.stdout)
  const errors = /Socket errors|Non-2xx/.test(r.stdout)
  return { rps: m ? Number(m[1]) : 0, requests: total ? Number(total[1]) : 0, errors: errors ? r.stdout : '' }
}

const results = {} // scenario -> server -> [{ rps, cpu, sup }]
for (let round = 1; round <= rounds; round++) {
  for (const [scenario, path] of Object.entries(SCENARIOS)) {
    const order = Object.keys(SERVERS)
    if (round % 2 === 0) order.reverse()
    for (const name of order) {
      const { child, port } = await startServer(name)
      wrk(port, path, warmup)
      const pids = tree(child.pid)
      const before = ticksOf(pids)
      const sup0 = stat(child.pid)?.ticks ?? 0
      const r = wrk(port, path, duration)
      const cpu = (ticksOf(pids) - before) * TICK_US / r.requests
      const sup = ((stat(child.pid)?.ticks ?? 0) - sup0) * TICK_US / r.requests
      if (r.errors) console.error(`${name} ${scenario}: wrk saw errors:\n${r.errors}`)
      child.kill('SIGTERM')
      await new Promise((res) => { child.once('exit', res); setTimeout(() => { child.kill('SIGKILL'); res() }, 5000) })
      ;((results[scenario] ??= {})[name] ??= []).push({ rps: r.rps, cpu, sup })
      console.error(`round ${round} ${scenario.padEnd(5)} ${name.padEnd(20)} ${r.rps.toFixed(0).padStart(7)} req/s  ${cpu.toFixed(1).padStart(5)} µs/req  (supervisor ${name.startsWith('start') ? sup.toFixed(2) : '-'} µs/req)`)
    }
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
for (const [scenario, byServer] of Object.entries(results)) {
  console.log(`\n${scenario} (${rounds} rounds x ${duration} s, ${connections} connections, medians; vs = ratio to start --workers 1)`)
  console.log(`${'server'.padEnd(22)}${'req/s'.padStart(9)}${'vs'.padStart(7)}${'CPU µs/req'.padStart(12)}${'vs'.padStart(7)}${'supervisor µs/req'.padStart(19)}`)
  const base = byServer['start --workers 1']
  const baseRps = median(base.map((x) => x.rps))
  const baseCpu = median(base.map((x) => x.cpu))
  for (const [name, runs] of Object.entries(byServer)) {
    const rps = median(runs.map((x) => x.rps))
    const cpu = median(runs.map((x) => x.cpu))
    const sup = name.startsWith('start') ? median(runs.map((x) => x.sup)).toFixed(2) : '-'
    console.log(`${name.padEnd(22)}${rps.toFixed(0).padStart(9)}${(rps / baseRps).toFixed(2).padStart(7)}${cpu.toFixed(1).padStart(12)}${(cpu / baseCpu).toFixed(2).padStart(7)}${sup.padStart(19)}`)
  }
}
