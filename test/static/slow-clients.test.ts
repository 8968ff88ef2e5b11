import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import { spawnCli, waitForServer } from '../helpers/spawn.js'
import { serveFolder, tempTree } from './helpers.js'

/** Keep-alive clients hammering `url` for `ms`, in their own process so they do not slow the measuring one. */
const HAMMER = `
const http = require('node:http')
const [url, conns, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])]
const agent = new http.Agent({ keepAlive: true, maxSockets: conns })
const end = Date.now() + ms
let done = 0, failed = 0
function loop() {
  if (Date.now() > end) return finish()
  http.get(url, { agent }, (res) => { res.resume(); res.on('end', () => { res.statusCode === 200 ? done++ : failed++; loop() }) })
    .on('error', () => { failed++; loop() })
}
let live = conns
function finish() { if (--live === 0) { console.log(JSON.stringify({ done, failed })); process.exit(0) } }
for (let i = 0; i < conns; i++) loop()
`

function timedGet(url: string): Promise<number> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`status ${res.statusCode}`))))
    }).on('error', reject).end()
  })
}

describe('static serving under slow and many clients', () => {
  it('cuts off request headers that trickle in, with 408', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'a' })
    const { port } = await serveFolder(t, dir, {}, { headersTimeout: 1000 })
    const start = performance.now()
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /a.txt HTTP/1.1\r\nHost: x\r\n'))
      let got = ''
      // One header byte every 100 ms: each arrives in time, the whole head never does.
      const drip = setInterval(() => socket.writable && socket.write('X'), 100)
      socket.on('data', (d) => { got += d.toString() })
      socket.on('close', () => { clearInterval(drip); resolve(got) })
      socket.on('error', (e) => { clearInterval(drip); reject(e) })
      setTimeout(() => socket.destroy(), 5000)
    })
    const elapsed = performance.now() - start
    assert.match(answer, /^HTTP\/1\.1 408 /)
    assert.ok(elapsed < 3000, `cut off after ${elapsed.toFixed(0)} ms`)
  })

  it('keeps answering a normal client quickly while 200 keep-alive clients hammer it and 300 slow sockets hang on', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'hello', 'page.html': '<p>x</p>'.repeat(100) })
    const server = spawnCli(t, ['serve', dir, '-p', '0', '-b', '127.0.0.1', '-q'])
    const url = await waitForServer(server)
    const slow: Socket[] = []
    t.after(() => { for (const s of slow) s.destroy() })
    await Promise.all(Array.from({ length: 300 }, () => new Promise<void>((resolve, reject) => {
      const s = connect(Number(new URL(url).port), '127.0.0.1', () => { s.write('GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Slow: '); resolve() })
      s.on('error', reject)
      slow.push(s)
    })))
    const drip = setInterval(() => { for (const s of slow) if (s.writable) s.write('y') }, 250)
    t.after(() => clearInterval(drip))
    const hammer = spawn(process.execPath, ['-e', HAMMER, `${url}/page.html`, '200', '2500'], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.after(() => hammer.kill('SIGKILL'))
    let report = ''
    hammer.stdout.on('data', (d: Buffer) => { report += d.toString() })
    const hammerDone = new Promise((resolve) => hammer.on('exit', resolve))
    await new Promise((r) => setTimeout(r, 500)) // let the hammer get going
    const latencies: number[] = []
    for (let i = 0; i < 20; i++) latencies.push(await timedGet(`${url}/a.txt`))
    await hammerDone
    const { done, failed } = JSON.parse(report) as { done: number; failed: number }
    latencies.sort((a, b) => a - b)
    const median = latencies[10]!
    const worst = latencies[19]!
    t.diagnostic(`hammer: ${done} requests, ${failed} failed; normal client median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`)
    assert.ok(done > 1000, `the hammer only got ${done} answers`)
    assert.equal(failed, 0)
    assert.ok(median < 250, `median latency ${median.toFixed(0)} ms`)
    assert.ok(worst < 1500, `worst latency ${worst.toFixed(0)} ms`)
    assert.ok(slow.every((s) => !s.destroyed), 'the server dropped slow sockets before their timeout')
  })
})
