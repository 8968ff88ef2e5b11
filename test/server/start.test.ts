import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import https from 'node:https'
import { appDir, spawnCli, type Spawned } from '../helpers/spawn.js'
import { h2connect, h2request, testCert } from '../helpers/tls.js'

const SECRET = 'start-tests-secret-0123456789abcdefghijklmnop'

const APP = (version: string, extra = ''): string => `import { Carafe } from 'carafe'
import { appendFileSync } from 'node:fs'
const app = new Carafe()
app.get('/', () => '${version} ' + process.pid)
app.get('/slow', async () => { await new Promise((r) => setTimeout(r, 1200)); return 'slow done ' + process.pid })
app.get('/crash', () => { setTimeout(() => process.exit(3), 5); return 'bye' })
app.get('/hang', () => { setTimeout(() => { for (;;) {} }, 5); return 'hanging' })
app.onPrimary(() => appendFileSync(new URL('./primary.log', import.meta.url), process.pid + ' ${version}\\n'))
${extra}
export default app
`

interface Started {
  p: Spawned
  url: string
  port: number
  dir: string
  file: string
}

async function start(t: TestContext, args: string[] = [], source = APP('v1'), env: Record<string, string | undefined> = {}): Promise<Started> {
  const dir = await appDir()
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'app.ts')
  await writeFile(file, source)
  const p = spawnCli(t, ['start', file, '--port', '0', '--host', '127.0.0.1', '--log', 'off', ...args], { CARAFE_SECRET: SECRET, CARAFE_DEV_SECRET: undefined, ...env })
  const m = await p.waitFor(/Serving HTTPS? on \S+ port (\d+)/, 15_000)
  const port = Number(m[1])
  const workers = Number(/--workers/.test(args.join(' ')) ? args[args.indexOf('--workers') + 1] : 1)
  await readyCount(p, workers)
  return { p, url: `http://127.0.0.1:${port}`, port, dir, file }
}

/** Wait until `n` "ready" lines have been printed in all. */
function readyCount(p: Spawned, n: number, ms = 20_000): Promise<RegExpMatchArray> {
  return p.waitFor(new RegExp(`(?:[^]*?\\) ready){${n}}`), ms, 'stderr')
}

interface Answer { status: number; body: string; headers: http.IncomingHttpHeaders }

function get(url: string, agent?: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: agent ?? false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }))
    }).on('error', reject)
  })
}

/** Keep-alive clients requesting `path` in a loop until `stop()`: every status and every error. */
function load(url: string, clients = 6): { stop(): Promise<{ ok: number; bad: string[]; pids: Set<string>; bodies: string[] }> } {
  let running = true
  let ok = 0
  const bad: string[] = []
  const pids = new Set<string>()
  const bodies: string[] = []
  const loops = Array.from({ length: clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    while (running) {
      try {
        const r = await get(`${url}/`, agent)
        if (r.status === 200) {
          ok++
          pids.add(r.body.split(' ')[1]!)
          bodies.push(r.body)
        } else bad.push(`status ${r.status}`)
      } catch (e) {
        bad.push((e as Error).message)
      }
    }
    agent.destroy()
  })
  return {
    async stop() {
      running = false
      await Promise.all(loops)
      return { ok, bad, pids, bodies }
    },
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function exitsWithin(p: Spawned, ms: number): Promise<number | null> {
  const timer = sleep(ms).then(() => 'timeout' as const)
  const code = await Promise.race([p.exited, timer])
  assert.notEqual(code, 'timeout', `the supervisor did not exit within ${ms} ms:\n${p.stderr()}`)
  return code as number | null
}

describe('carafe start', { timeout: 120_000 }, () => {
  it('serves from several workers, runs onPrimary once in its own process, and drains on SIGTERM: the in-flight request completes, new connections are refused, exit 0', async (t) => {
    const s = await start(t, ['--workers', '2'])
    const pids = new Set<string>()
    for (let i = 0; i < 6; i++) pids.add((await get(`${s.url}/`)).body.split(' ')[1]!)
    assert.equal(pids.size, 2, 'connections go to both workers')
    const primary = (await readFile(path.join(s.dir, 'primary.log'), 'utf8')).trim().split('\n')
    assert.equal(primary.length, 1, 'onPrimary runs once per start')
    assert.ok(!pids.has(primary[0]!.split(' ')[0]!), 'onPrimary runs outside the workers')

    const slow = get(`${s.url}/slow`)
    await sleep(200)
    const t0 = Date.now()
    s.p.child.kill('SIGTERM')
    await sleep(200)
    await assert.rejects(get(`${s.url}/`), /ECONNREFUSED/)
    const r = await slow
    assert.equal(r.status, 200)
    assert.match(r.body, /^slow done/)
    assert.equal(r.headers.connection, 'close', 'answers while draining close their connection')
    assert.equal(await exitsWithin(s.p, 10_000), 0)
    assert.ok(Date.now() - t0 < 8000)
  })

  it('keeps an idle keep-alive connection open while draining and answers a request on it with Connection: close', async (t) => {
    const s = await start(t, ['--graceful-timeout', '5'])
    const socket = net.connect(s.port, '127.0.0.1')
    const read = (): Promise<string> => new Promise((resolve) => socket.once('data', (d) => resolve(d.toString())))
    await new Promise((r) => socket.once('connect', r))
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    assert.match(await read(), /^HTTP\/1.1 200[^]*keep-alive/i)
    s.p.child.kill('SIGTERM')
    await s.p.waitFor(/draining/, 5000, 'stderr')
    await sleep(500)
    // A proxy reusing its upstream connection sends a request now: it is answered, not cut.
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    const answer = await read()
    assert.match(answer, /^HTTP\/1.1 200/)
    assert.match(answer, /connection: close/i)
    await new Promise((r) => socket.once('close', r))
    assert.equal(await exitsWithin(s.p, 5000), 0)
  })

  it('rolls a SIGHUP reload under load with zero failed requests; new workers run the new code; onPrimary runs again', async (t) => {
    const s = await start(t, ['--workers', '2'])
    const traffic = load(s.url)
    await sleep(500)
    await writeFile(s.file, APP('v2'))
    s.p.child.kill('SIGHUP')
    await s.p.waitFor(/reload done/, 30_000, 'stderr')
    await sleep(500)
    const result = await traffic.stop()
    assert.deepEqual(result.bad, [], 'no failed or non-2xx request during the reload')
    assert.ok(result.ok > 50, `requests kept being served (${result.ok})`)
    assert.ok(result.bodies.some((b) => b.startsWith('v1')) && result.bodies.some((b) => b.startsWith('v2')))
    const after = await get(`${s.url}/`)
    assert.match(after.body, /^v2 /)
    const primary = (await readFile(path.join(s.dir, 'primary.log'), 'utf8')).trim().split('\n')
    assert.deepEqual(primary.map((l) => l.split(' ')[1]), ['v1', 'v2'])
    s.p.child.kill('SIGTERM')
    assert.equal(await exitsWithin(s.p, 10_000), 0)
  })

  it('restarts a crashed worker, and a connection made while no worker is up waits instead of being refused', async (t) => {
    const s = await start(t)
    const first = (await get(`${s.url}/`)).body
    await get(`${s.url}/crash`)
    await s.p.waitFor(/exited with code 3; restarting it/, 5000, 'stderr')
    // The only worker is gone now: this connection must wait for the new one.
    const r = await get(`${s.url}/`)
    assert.equal(r.status, 200)
    assert.notEqual(r.body, first, 'a new worker answers')
    assert.match(s.p.stderr(), /exited with code 3; restarting it/)
  })

  it('kills and replaces a hung worker that stops sending heartbeats', async (t) => {
    const s = await start(t, ['--timeout', '1'])
    const first = (await get(`${s.url}/`)).body
    await get(`${s.url}/hang`)
    await s.p.waitFor(/sent no heartbeat for 1 s: killing it/, 10_000, 'stderr')
    const r = await get(`${s.url}/`)
    assert.equal(r.status, 200)
    assert.notEqual(r.body, first)
  })

  it('adds a worker on SIGTTIN and removes one on SIGTTOU', async (t) => {
    const s = await start(t)
    s.p.child.kill('SIGTTIN')
    await readyCount(s.p, 2)
    const pids = new Set<string>()
    for (let i = 0; i < 6; i++) pids.add((await get(`${s.url}/`)).body.split(' ')[1]!)
    assert.equal(pids.size, 2)
    s.p.child.kill('SIGTTOU')
    await s.p.waitFor(/workers: 1/, 5000, 'stderr')
    await sleep(1500)
    const left = new Set<string>()
    for (let i = 0; i < 6; i++) left.add((await get(`${s.url}/`)).body.split(' ')[1]!)
    assert.equal(left.size, 1)
  })

  it('recycles a worker after --max-requests without failing a request', async (t) => {
    const s = await start(t, ['--max-requests', '20'])
    const traffic = load(s.url, 3)
    await s.p.waitFor(/served 20 requests \(--max-requests\): replacing it/, 10_000, 'stderr')
    await readyCount(s.p, 2)
    await sleep(300)
    const result = await traffic.stop()
    assert.deepEqual(result.bad, [])
    assert.ok(result.pids.size >= 2, 'a new worker took over')
  })

  it('stops at once with the reason when the app throws at startup (no restart loop)', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { Carafe } from 'carafe'\nconst app = new Carafe()\napp.onStartup(() => { throw new Error('no database here') })\nexport default app\n`)
    const p = spawnCli(t, ['start', file, '--port', '0', '--host', '127.0.0.1', '--workers', '2'], { CARAFE_SECRET: SECRET })
    assert.equal(await exitsWithin(p, 15_000), 1)
    assert.match(p.stderr(), /no database here/)
    assert.match(p.stderr(), /the app failed to start; not retrying/)
    assert.doesNotMatch(p.stderr(), /restarting it/)
  })

  it('stops a crash loop with a clear message: a worker that crashes and whose replacements all fail to start', async (t) => {
    const extra = `import { existsSync, writeFileSync } from 'node:fs'
const flag = new URL('./broken', import.meta.url)
app.onStartup(() => { if (existsSync(flag)) throw new Error('the config went bad') })
app.get('/break', () => { writeFileSync(flag, 'x'); setTimeout(() => process.exit(1), 5); return 'breaking' })`
    const s = await start(t, [], APP('v1', extra))
    await get(`${s.url}/break`)
    assert.equal(await exitsWithin(s.p, 30_000), 1)
    const err = s.p.stderr()
    assert.match(err, /the config went bad/)
    assert.match(err, /5 workers in a row failed to start: stopping/)
    // Backed off between attempts: 100, 200, 400, 800 ms.
    assert.match(err, /restarting it in 800 ms/)
  })

  it('refuses to start without a secret, and a port in use is one clear line', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    await writeFile(file, APP('v1'))
    const p = spawnCli(t, ['start', file, '--port', '0', '--host', '127.0.0.1'], { CARAFE_SECRET: undefined, CARAFE_DEV_SECRET: undefined })
    assert.equal(await exitsWithin(p, 15_000), 1)
    assert.match(p.stderr(), /no secret: set CARAFE_SECRET/)

    const busy = net.createServer().listen(0, '127.0.0.1')
    await new Promise((r) => busy.once('listening', r))
    t.after(() => busy.close())
    const port = (busy.address() as net.AddressInfo).port
    const q = spawnCli(t, ['start', file, '--port', String(port), '--host', '127.0.0.1'], { CARAFE_SECRET: SECRET })
    assert.equal(await exitsWithin(q, 10_000), 1)
    assert.equal(q.stderr().trim(), `carafe: cannot serve on 127.0.0.1 port ${port}: the port is already in use (pick another with --port)`)
  })

  it('serves HTTP/2 and HTTPS/1.1 from its workers with --cert/--key, and drains an HTTP/2 session with a GOAWAY while its stream in flight finishes', async (t) => {
    const { certFile, keyFile } = await testCert()
    const s = await start(t, ['--workers', '2', '--cert', certFile, '--key', keyFile])
    assert.match(s.p.stdout(), /Serving HTTPS on 127\.0\.0\.1 port \d+ \(https:\/\/127\.0\.0\.1:\d+\/\) with 2 workers/)
    const session = h2connect(t, s.port)
    const r = await h2request(session, { ':path': '/' })
    assert.equal(r.status, 200)
    assert.match(r.body.toString(), /^v1 \d+$/)
    const h1 = await new Promise<string>((resolve, reject) => {
      https.get(`https://127.0.0.1:${s.port}/`, { rejectUnauthorized: false, agent: false }, (res) => {
        let body = ''
        res.on('data', (d) => { body += d }).on('end', () => resolve(`${res.httpVersion} ${res.statusCode} ${body}`))
      }).on('error', reject)
    })
    assert.match(h1, /^1\.1 200 v1 /)
    let goaway = false
    session.once('goaway', () => { goaway = true })
    const slow = h2request(session, { ':path': '/slow' })
    await sleep(200)
    s.p.child.kill('SIGTERM')
    const done = await slow
    assert.equal(done.status, 200)
    assert.match(done.body.toString(), /^slow done/)
    assert.ok(goaway, 'the session got a GOAWAY')
    assert.equal(await exitsWithin(s.p, 10_000), 0)
  })

  it('a bad certificate path is one line naming the file, exit 1', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    await writeFile(file, APP('v1'))
    const p = spawnCli(t, ['start', file, '--port', '0', '--host', '127.0.0.1', '--cert', path.join(dir, 'nope.pem')], { CARAFE_SECRET: SECRET })
    assert.equal(await exitsWithin(p, 10_000), 1)
    const lines = p.stderr().trim().split('\n')
    assert.equal(lines.length, 1, p.stderr())
    assert.match(lines[0]!, /^carafe: cannot serve HTTPS: .*nope\.pem/)
  })

  it('reads a .env file next to the app without overriding the environment', async (t) => {
    const s = await start(t, [], APP('v1', `app.get('/env', () => (process.env.FROM_DOTENV ?? '-') + ' ' + (process.env.BOTH ?? '-'))`), { BOTH: 'from-env' })
    s.p.child.kill('SIGKILL')
    await s.p.exited
    await writeFile(path.join(s.dir, '.env'), 'FROM_DOTENV=yes\nBOTH=from-file\n')
    const p = spawnCli(t, ['start', s.file, '--port', '0', '--host', '127.0.0.1', '--log', 'off'], { CARAFE_SECRET: SECRET, BOTH: 'from-env' })
    const m = await p.waitFor(/Serving HTTPS? on \S+ port (\d+)/, 15_000)
    await readyCount(p, 1)
    assert.equal((await get(`http://127.0.0.1:${m[1]}/env`)).body, 'yes from-env')
  })
})
