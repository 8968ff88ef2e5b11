#!/usr/bin/env node
// WebSocket, side by side in one run: Carafe (app.ws) vs raw `ws` on node:http vs Fastify
// with @fastify/websocket. Echo: 50 connections each keeping one 32-byte message in flight
// (messages/s, and the server's CPU µs per message from /proc, server pinned to CPU 1, the
// load to CPU 0). Broadcast: 1,000 clients in one room, one message to all of them (time
// until the last got it, median of 20). Interleaved rounds with fresh processes, medians.
//   node bench/ws.mjs [--rounds 5] [--duration 5] [--connections 50] [--clients 1000]
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' }, clients: { type: 'string', default: '1000' } } })
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100)
const KINDS = ['carafe', 'ws', 'fastify']
const ticks = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return Number(f[11]) + Number(f[12])
  } catch { return 0 }
}
let port = 9800
async function start(kind) {
  const p = port++
  const child = spawn('taskset', ['-c', '1', process.execPath, join(here, 'servers/ws-echo.mjs')], { env: { ...process.env, BENCH_WS: kind, PORT: String(p) }, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (String(d).includes('listening')) resolve() })
    child.on('exit', (c) => reject(new Error(`${kind} exited ${c}`)))
  })
  return { child, port: p }
}
function load(args) {
  const r = spawnSync('taskset', ['-c', '0', process.execPath, join(here, 'ws-load.mjs'), ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}
const stop = (child) => new Promise((r) => { child.once('exit', r); child.kill('SIGKILL') })
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }

const res = Object.fromEntries(KINDS.map((k) => [k, { mps: [], cpu: [], bcast: [] }]))
for (let round = 1; round <= Number(values.rounds); round++) {
  const order = round % 2 ? KINDS : [...KINDS].reverse()
  for (const kind of order) {
    let { child, port: p } = await start(kind)
    // taskset execs node in place: the pid is the server's.
    const t0 = ticks(child.pid)
    const echo = load(['echo', String(p), values.connections, values.duration])
    const cpu = (ticks(child.pid) - t0) * TICK_US / echo.messages // includes the 1 s warm-up's share: same for all
    await stop(child)
    ;({ child, port: p } = await start(kind))
    const b = load(['broadcast', String(p), values.clients, '20'])
    await stop(child)
    const mps = echo.messages / echo.seconds
    res[kind].mps.push(mps); res[kind].cpu.push(cpu); res[kind].bcast.push(b.medianMs)
    console.error(`round ${round} ${kind.padEnd(8)} echo ${mps.toFixed(0).padStart(7)} msg/s ${cpu.toFixed(1).padStart(6)} µs/msg   broadcast to ${values.clients}: ${b.medianMs.toFixed(1)} ms`)
  }
}
console.log(`\nWebSocket (${values.rounds} rounds; echo: ${values.connections} connections x ${values.duration} s; broadcast: ${values.clients} clients; medians; vs = ratio to raw ws, higher is better)\n`)
console.log('| server | echo msg/s | vs ws | CPU µs/msg | vs ws | broadcast ms | vs ws |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
const base = { mps: median(res.ws.mps), cpu: median(res.ws.cpu), bcast: median(res.ws.bcast) }
for (const kind of KINDS) {
  const m = { mps: median(res[kind].mps), cpu: median(res[kind].cpu), bcast: median(res[kind].bcast) }
  console.log(`| ${kind} | ${m.mps.toFixed(0)} | ${(m.mps / base.mps).toFixed(2)} | ${m.cpu.toFixed(1)} | ${(base.cpu / m.cpu).toFixed(2)} | ${m.bcast.toFixed(1)} | ${(base.bcast / m.bcast).toFixed(2)} |`)
}
