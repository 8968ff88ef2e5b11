import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import path from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { pathToFileURL } from 'node:url'
import { Carafe } from '../../src/index.js'
import { ROOT, spawnCli, waitForServer } from '../helpers/spawn.js'
import { tempTree } from '../static/helpers.js'

const BIG = 4 * 1024 * 1024

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m![1]) / 1024
}

/** Poll until `check` holds or `ms` pass; returns the last value seen. */
async function settle(read: () => number, check: (n: number) => boolean, ms = 5000): Promise<number> {
  const end = Date.now() + ms
  let n = read()
  while (!check(n) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50))
    n = read()
  }
  return n
}

/** `conns` connections, each sending `count` pipelined GETs of `target` and reading nothing. */
async function pipelineAndStall(port: number, target: string, conns: number, count: number): Promise<Socket[]> {
  const request = `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(count)
  return Promise.all(Array.from({ length: conns }, () => new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { s.write(request); s.pause(); resolve(s) })
    s.on('error', reject)
  })))
}

/** Until the server has read the first request of each connection: its file is open then. */
async function waitForOpenFiles(pid: number, base: number, atLeast: number): Promise<void> {
  await settle(() => fdCount(pid), (n) => n >= base + atLeast)
}

async function startServe(t: TestContext): Promise<{ pid: number; port: number; base: number }> {
  const dir = await tempTree(t, { 'big.bin': Buffer.alloc(BIG, 7), 'a.txt': 'a' })
  const server = spawnCli(t, ['serve', dir, '-p', '0', '-b', '127.0.0.1', '-q'])
  const url = await waitForServer(server)
  await fetch(`${url}/a.txt`).then((r) => r.text())
  const pid = server.child.pid!
  return { pid, port: Number(new URL(url).port), base: fdCount(pid) }
}

describe('Node door: streamed bodies of pipelined and stalled requests', () => {
  it('opens no file for a queued pipelined response, and closes everything when the connection goes', async (t) => {
    const { pid, port, base } = await startServe(t)
    const socks = await pipelineAndStall(port, '/big.bin', 3, 100)
    await waitForOpenFiles(pid, base, 6) // 3 sockets and the 3 files being sent
    // Let the server parse every pipelined request before looking.
    await new Promise((r) => setTimeout(r, 300))
    const during = fdCount(pid)
    for (const s of socks) s.destroy()
    const after = await settle(() => fdCount(pid), (n) => n <= base)
    t.diagnostic(`fds: ${base} before, ${during} with 3 x 100 pipelined GETs queued, ${after} after closing`)
    assert.ok(during <= base + 3 * 2 + 2, `${during - base} fds held for 3 connections`)
    assert.ok(after <= base, `${after - base} fds left behind`)
  })

  it('holds no memory for queued pipelined downloads', async (t) => {
    const { pid, port } = await startServe(t)
    const before = rssMiB(pid)
    const socks = await pipelineAndStall(port, '/big.bin', 10, 100)
    // Long enough for queued downloads to fill their read buffers, if they were opened.
    const during = await settle(() => rssMiB(pid), (n) => n - before > 200, 2000)
    for (const s of socks) s.destroy()
    t.diagnostic(`RSS: ${before.toFixed(0)} MiB before, ${during.toFixed(0)} MiB with 10 x 100 pipelined GETs of 4 MiB`)
    assert.ok(during - before < 120, `RSS grew by ${(during - before).toFixed(0)} MiB`)
  })

  it('releases the file of a client that reads nothing once it goes away', async (t) => {
    const { pid, port, base } = await startServe(t)
    const socks = await pipelineAndStall(port, '/big.bin', 20, 1)
    await waitForOpenFiles(pid, base, 40)
    for (const s of socks) s.destroy()
    const after = await settle(() => fdCount(pid), (n) => n <= base)
    assert.ok(after <= base, `${after - base} fds left behind`)
  })

  it('destroys a stream a handler returned when its pipelined request is never reached', async (t) => {
    const dir = await tempTree(t, { 'big.bin': Buffer.alloc(BIG, 7) })
    const index = pathToFileURL(path.join(ROOT, 'dist/index.js')).href
    const script = `
      import { createReadStream } from 'node:fs'
      import { Carafe } from ${JSON.stringify(index)}
      const app = new Carafe()
      app.get('/big', (c) => { c.header('content-type', 'application/octet-stream'); return c.body(createReadStream(${JSON.stringify(path.join(dir, 'big.bin'))})) })
      app.get('/a', () => 'a')
      const s = await app.listen({ host: '127.0.0.1', port: 0 })
      console.log('port ' + s.port)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.after(() => child.kill('SIGKILL'))
    const port = await new Promise<number>((resolve) => child.stdout.on('data', (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString())
      if (m !== null) resolve(Number(m[1]))
    }))
    await fetch(`http://127.0.0.1:${port}/a`).then((r) => r.text())
    const pid = child.pid!
    const base = fdCount(pid)
    const socks = await pipelineAndStall(port, '/big', 3, 20)
    await settle(() => fdCount(pid), (n) => n >= base + 3 * 21)
    for (const s of socks) s.destroy()
    const after = await settle(() => fdCount(pid), (n) => n <= base)
    assert.ok(after <= base, `${after - base} fds left behind`)
  })
})

describe('Fetch door: file bodies', () => {
  it('opens a file only when its Response body is read, and closes it when cancelled', async (t) => {
    const dir = await tempTree(t, { 'big.bin': Buffer.alloc(BIG, 7) })
    const app = new Carafe()
    app.static('/files', dir)
    const base = fdCount(process.pid)
    const unread = await Promise.all(Array.from({ length: 20 }, () => app.request('/files/big.bin')))
    assert.equal(unread[0]!.status, 200)
    // Give files that were opened eagerly time to show (opening runs in the thread pool).
    await settle(() => fdCount(process.pid), (n) => n > base, 300)
    assert.ok(fdCount(process.pid) <= base, `${fdCount(process.pid) - base} fds open for 20 unread Responses`)
    const reader = unread[0]!.body!.getReader()
    assert.equal((await reader.read()).value?.[0], 7)
    await reader.cancel()
    await Promise.all(unread.slice(1).map((r) => r.body!.cancel()))
    const after = await settle(() => fdCount(process.pid), (n) => n <= base)
    assert.ok(after <= base, `${after - base} fds left behind`)
    const whole = await (await app.request('/files/big.bin')).arrayBuffer()
    assert.equal(whole.byteLength, BIG)
  })
})
