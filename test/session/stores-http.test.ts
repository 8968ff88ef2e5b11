import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Carafe } from '../../src/index.js'
import { cookieStore, redisStore, session } from '../../src/session/index.js'
import { captureErrors } from '../helpers/capture.js'
import { serve } from '../helpers/server.js'
import { SERVICES, needService } from '../helpers/services.js'
import { ROOT, appDir } from '../helpers/spawn.js'
import { redisTestPrefix } from './redis-keys.js'

const SECRET = 'stores-http-test-secret-0123456789abcdef'
const build = (p: string): string => JSON.stringify(path.join(ROOT, 'build/src', p))

/**
 * The app the processes run: its store from the environment. It listens with `listen()` and, on
 * SIGTERM, closes and does *not* call process.exit: it must end by itself, so a timer or socket
 * left open by the store would keep it running. It prints what is still open after the close.
 */
const APP = `import { Carafe } from ${build('index.js')}
import { session, redisStore, sqliteStore } from ${build('session/index.js')}
const env = process.env
const store = env.STORE === 'redis' ? redisStore({ url: env.REDIS_URL, prefix: env.PREFIX }) : sqliteStore({ path: env.DB, purgeInterval: 1 })
const app = new Carafe({ secrets: ${JSON.stringify(SECRET)} })
app.use(session({ store, maxAge: '1h' }))
app.get('/plain', () => 'no session needed')
app.get('/s', (c) => ({ pid: process.pid, data: Object.fromEntries(c.session.keys().map((k) => [k, c.session.get(k)])) }))
app.post('/set/:key/:value', (c) => { c.session.set(c.params.key, c.params.value); return 'ok' })
const server = await app.listen({ port: 0, host: '127.0.0.1' })
console.log('listening on port ' + server.port)
process.once('SIGTERM', async () => {
  await server.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  console.log('closed; open: ' + JSON.stringify(process.getActiveResourcesInfo()))
})
`

/** A running app process. */
interface AppProcess {
  url: string
  pid: number
  /** SIGTERM, then wait for the process to end by itself; resolves with its exit code and what was still open after the close. */
  stop(): Promise<{ code: number | null; open: string[]; stderr: string }>
}

async function spawnApp(t: TestContext, file: string, env: Record<string, string>): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let out = ''
  let err = ''
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on port (\d+)/.exec(out)
      if (m !== null) resolve(Number(m[1]))
    })
    void exited.then((code) => reject(new Error(`the app exited (${code}) before listening:\n${out}\n${err}`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      const code = await exited
      clearTimeout(timer)
      const m = /closed; open: (\[.*\])/.exec(out)
      return { code, open: m === null ? ['(no report: killed?)'] : (JSON.parse(m[1]!) as string[]), stderr: err }
    },
  }
}

/** A one-cookie jar: what the last Set-Cookie said. */
class Jar {
  cookie = ''
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, headers: { ...(this.cookie === '' ? {} : { cookie: this.cookie }) } })
    const set = res.headers.get('set-cookie')
    if (set !== null) {
      const pair = set.split(';')[0]!
      this.cookie = pair.endsWith('=') ? '' : pair
    }
    return res
  }
}

async function readSession(jar: Jar, app: AppProcess): Promise<{ pid: number; data: Record<string, string> }> {
  const res = await jar.fetch(`${app.url}/s`)
  assert.equal(res.status, 200)
  return (await res.json()) as { pid: number; data: Record<string, string> }
}

/** Two processes of one app see one session; concurrent changes of different keys made through each are both kept. */
async function sharedSession(a: AppProcess, b: AppProcess): Promise<Jar> {
  const jar = new Jar()
  assert.equal((await jar.fetch(`${a.url}/set/name/은비`, { method: 'POST' })).status, 200)
  assert.match(jar.cookie, /^sid=[A-Za-z0-9_-]{43}$/)
  const seen = await readSession(jar, b)
  assert.notEqual(seen.pid, a.pid, 'read by the other process')
  assert.deepEqual(seen.data, { name: '은비' })
  const before = jar.cookie
  const [ra, rb] = await Promise.all([jar.fetch(`${a.url}/set/x/1`, { method: 'POST' }), jar.fetch(`${b.url}/set/y/2`, { method: 'POST' })])
  assert.deepEqual([ra.status, rb.status], [200, 200])
  assert.equal(jar.cookie, before, 'an existing session keeps its cookie')
  assert.deepEqual((await readSession(jar, a)).data, { name: '은비', x: '1', y: '2' }, 'both changes kept (express-session loses one: expressjs/session#1064)')
  return jar
}

async function assertClean(app: AppProcess): Promise<void> {
  const { code, open, stderr } = await app.stop()
  assert.equal(code, 0, `the process ended by itself after close:\n${stderr}`)
  assert.deepEqual(open.filter((r) => r === 'Timeout' || r.startsWith('TCP')), [], `no timer or socket left open after close: ${open.join(', ')}`)
}

describe('session stores through real HTTP, across processes', () => {
  it('sqliteStore: two processes on one file share sessions, and a restarted process keeps them', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.mjs')
    await writeFile(file, APP)
    const env = { STORE: 'sqlite', DB: path.join(dir, 'data/sessions.db') }
    const [a, b] = await Promise.all([spawnApp(t, file, env), spawnApp(t, file, env)])
    const jar = await sharedSession(a, b)
    await assertClean(a)
    await assertClean(b)
    const c = await spawnApp(t, file, env)
    assert.deepEqual((await readSession(jar, c)).data, { name: '은비', x: '1', y: '2' }, 'the session outlived both processes')
    await assertClean(c)
  })

  it('redisStore: two processes sharing Redis see the same session', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const prefix = redisTestPrefix(t, 'carafe_test_http')
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.mjs')
    await writeFile(file, APP)
    const env = { STORE: 'redis', REDIS_URL: SERVICES.redis.url, PREFIX: prefix }
    const [a, b] = await Promise.all([spawnApp(t, file, env), spawnApp(t, file, env)])
    await sharedSession(a, b)
    await assertClean(a)
    await assertClean(b)
  })
})

describe('redisStore while Redis goes away and comes back', () => {
  it('answers 503 for what needs the session, keeps serving the rest, and recovers without a restart', async (t) => {
    const port = await freePort()
    const redis = new RedisServer(port)
    t.after(() => redis.kill())
    const app = new Carafe({ secrets: SECRET })
    app.use(session({ store: redisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'carafe_test_down:', timeout: 500 }) }))
    app.get('/plain', () => 'no session needed')
    app.get('/s', (c) => ({ n: c.session.get('n') ?? null }))
    app.post('/n/:n', (c) => { c.session.set('n', c.params.n); return 'ok' })
    const jar = new Jar()
    const { logged } = await captureErrors(async () => {
      // Redis is not there yet: the app starts anyway.
      const s = await serve(t, app)
      const plain = await fetch(`${s.url}/plain`)
      assert.deepEqual([plain.status, await plain.text()], [200, 'no session needed'])
      const down = await jar.fetch(`${s.url}/n/1`, { method: 'POST' })
      assert.equal(down.status, 503)
      assert.match(await down.text(), /session store is unavailable right now/)
      assert.equal(jar.cookie, '', 'no cookie for a session that was not saved')

      await redis.start()
      assert.equal(await until(async () => (await jar.fetch(`${s.url}/n/1`, { method: 'POST' })).status === 200), true, 'works once Redis is up')
      assert.deepEqual(await (await jar.fetch(`${s.url}/s`)).json(), { n: '1' })

      await redis.stop()
      const lost = await jar.fetch(`${s.url}/s`)
      assert.equal(lost.status, 503, 'a request with a session cookie needs the store')
      assert.match(await lost.text(), /session store is unavailable/)
      assert.equal((await fetch(`${s.url}/plain`)).status, 200, 'the rest still works')
      assert.equal((await fetch(`${s.url}/s`)).status, 200, 'a request without a session cookie does no store I/O')

      await redis.start() // empty: --save '' --appendonly no
      assert.equal(await until(async () => (await jar.fetch(`${s.url}/s`)).status === 200), true, 'reconnected by itself')
      assert.equal(jar.cookie, '', 'the session Redis lost reads as no session, and its cookie is dropped')
      assert.equal((await jar.fetch(`${s.url}/n/2`, { method: 'POST' })).status, 200)
      assert.deepEqual(await (await jar.fetch(`${s.url}/s`)).json(), { n: '2' })
      await s.close()
    })
    assert.match(logged, /redisStore: .*unreachable.*503/)
    assert.match(logged, /redisStore: connected to .* again/)
  })
})

describe('cookieStore through real HTTP', () => {
  it('refuses a session that outgrows the cookie with a clear error, and the browser keeps its old cookie', async (t) => {
    const app = new Carafe({ secrets: SECRET })
    app.use(session({ store: cookieStore() }))
    app.get('/s', (c) => ({ size: (c.session.get('blob') as string | undefined)?.length ?? 0 }))
    app.post('/blob/:n', (c) => { c.session.set('blob', 'x'.repeat(Number(c.params.n))); return 'ok' })
    const s = await serve(t, app)
    const jar = new Jar()
    assert.equal((await jar.fetch(`${s.url}/blob/100`, { method: 'POST' })).status, 200)
    const small = jar.cookie
    assert.ok(small.startsWith('sid='))
    assert.deepEqual(await (await jar.fetch(`${s.url}/s`)).json(), { size: 100 })
    const { value: res, logged } = await captureErrors(() => jar.fetch(`${s.url}/blob/5000`, { method: 'POST' }))
    assert.equal(res.status, 500)
    assert.equal(res.headers.get('set-cookie'), null, 'no half-written cookie')
    assert.match(logged, /ERR_SESSION_TOO_LARGE|session cookie would be \d+ bytes, more than the 4000/)
    assert.match(logged, /server store/)
    assert.equal(jar.cookie, small)
    assert.deepEqual(await (await jar.fetch(`${s.url}/s`)).json(), { size: 100 }, 'the old session is intact')
  })
})

describe('cookieStore with an idle timeout', () => {
  it('re-seals the cookie when it touches the session, its Max-Age still counted from the session start', async (t) => {
    const app = new Carafe({ secrets: SECRET })
    // A touch at most every tenth of the idle timeout: every 200 ms here.
    app.use(session({ store: cookieStore(), maxAge: 10, idleTimeout: 2 }))
    app.get('/s', (c) => ({ n: c.session.get('n') ?? null }))
    app.post('/n/:n', (c) => { c.session.set('n', c.params.n); return 'ok' })
    const s = await serve(t, app)
    const jar = new Jar()
    const first = await jar.fetch(`${s.url}/n/1`, { method: 'POST' })
    assert.match(first.headers.get('set-cookie') ?? '', /Max-Age=(10|9);/)
    const sealed = jar.cookie
    await sleep(1200)
    const touched = await jar.fetch(`${s.url}/s`)
    assert.deepEqual(await touched.json(), { n: '1' })
    const maxAge = Number(/Max-Age=(\d+)/.exec(touched.headers.get('set-cookie') ?? '')?.[1])
    assert.notEqual(jar.cookie, sealed, 'a new cookie carries the new expiry')
    assert.ok(maxAge >= 7 && maxAge <= 9, `Max-Age ${maxAge}: what is left of maxAge, not all of it`)
  })
})

describe('optional drivers that are not installed', () => {
  it('say `npm install …` when the store opens, and importing carafe/session does not need them', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-nopeer-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    // Make better-sqlite3 and redis unresolvable, as Node does when they are not installed.
    await writeFile(path.join(dir, 'hide.cjs'), `const Module = require('node:module')
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (request === 'better-sqlite3' || request === 'redis') {
    const e = new Error("Cannot find module '" + request + "'\\nRequire stack: ...")
    e.code = 'MODULE_NOT_FOUND'
    throw e
  }
  return resolve.call(this, request, ...rest)
}
`)
    await writeFile(path.join(dir, 'main.mjs'), `import { Carafe } from ${build('index.js')}
import { session, sqliteStore, redisStore } from ${build('session/index.js')}
const out = {}
for (const [name, store] of [['sqlite', sqliteStore({ path: ${JSON.stringify(path.join(dir, 's.db'))} })], ['redis', redisStore()]]) {
  const app = new Carafe({ secrets: ${JSON.stringify(SECRET)} })
  app.use(session({ store }))
  try {
    const server = await app.listen({ port: 0, host: '127.0.0.1' })
    await server.close()
    out[name] = 'started'
  } catch (e) {
    out[name] = { code: e.code, message: e.message }
  }
}
console.log(JSON.stringify(out))
`)
    const child = spawn(process.execPath, ['--require', path.join(dir, 'hide.cjs'), path.join(dir, 'main.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    assert.equal(code, 0, err)
    const result = JSON.parse(out) as Record<string, { code: string; message: string }>
    assert.deepEqual(result.sqlite, { code: 'ERR_MISSING_DEPENDENCY', message: 'sqliteStore() needs the better-sqlite3 package, which is not installed: run `npm install better-sqlite3@12` to use sqliteStore()' })
    assert.deepEqual(result.redis, { code: 'ERR_MISSING_DEPENDENCY', message: 'redisStore() needs the redis package, which is not installed: run `npm install redis` to use redisStore()' })
  })
})

/** A redis-server of this test's own (no persistence), to stop and start again. */
class RedisServer {
  readonly port: number
  #child: ChildProcess | null = null
  constructor(port: number) {
    this.port = port
  }

  get running(): boolean {
    return this.#child !== null
  }

  async start(): Promise<void> {
    const child = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    // Never outlive this test process, whatever happens to it.
    const reap = (): void => { child.kill('SIGKILL') }
    process.once('exit', reap)
    child.once('exit', () => process.off('exit', reap))
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start /usr/bin/redis-server (this test runs a Redis of its own): ${e.message}`)))
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('Ready to accept connections')) resolve()
      })
      child.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)))
    })
  }

  /** SIGKILL: Redis gone at once, as in a crash. */
  async stop(): Promise<void> {
    const child = this.#child
    this.#child = null
    if (child === null || child.exitCode !== null) return
    const gone = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await gone
  }

  kill(): Promise<void> {
    return this.stop()
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** Try `ok` until it holds (every 100 ms, at most `ms`). */
async function until(ok: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await ok()) return true
    await sleep(100)
  }
  return false
}
