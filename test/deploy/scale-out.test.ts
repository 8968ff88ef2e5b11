import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { appDir, ROOT, spawnCli, type Spawned } from '../helpers/spawn.js'
import { needService, ownPgSchema, ownRedisPrefix, SERVICES } from '../helpers/services.js'
import { freePort, startNginx } from '../helpers/nginx.js'

const SECRET = 'scale-out-tests-secret-0123456789abcdefghijklmn'
const PASSWORD = 'admin password 1'


interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

/** One request through `agent` (keep-alive to nginx, as a browser has). */
function request(agent: http.Agent, port: number, method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }))
    })
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

function instance(t: TestContext, port: number, env: Record<string, string>): Spawned {
  return spawnCli(t, ['start', 'examples/notes/app.ts', '--port', String(port), '--host', '127.0.0.1', '--workers', '2', '--trust-proxy', 'loopback', '--log', 'off', '--graceful-timeout', '3'], env)
}

function ready(p: Spawned, n: number): Promise<RegExpMatchArray> {
  return p.waitFor(new RegExp(`(?:[^]*?\\) ready){${n}}`), 30_000, 'stderr')
}

/** SIGKILL a `carafe start` instance: the supervisor and all its workers at once, as a machine that dies. */
function killInstance(p: Spawned): void {
  const pid = p.child.pid!
  let workers: number[] = []
  try {
    workers = execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').map(Number)
  } catch { /* none */ }
  for (const w of [pid, ...workers]) {
    try { process.kill(w, 'SIGKILL') } catch { /* gone */ }
  }
}

describe('scale-out behind nginx (deploy/nginx.conf)', { timeout: 240_000 }, () => {
  it('two `carafe start --workers 2` instances with Redis sessions and PostgreSQL: login sticks across instances, one is killed and restarted, the other reloaded under load; no acknowledged write is lost', async (t) => {
    if (!(await needService(t, 'postgres')) || !(await needService(t, 'redis'))) return
    // A schema and a Redis prefix of this test's own, removed at the end.
    const { schema, url: databaseUrl, admin } = await ownPgSchema(t, 'scale')
    const prefix = ownRedisPrefix(t, 'scale')

    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const [front, portA, portB] = [await freePort(), await freePort(), await freePort()]
    await mkdir(path.join(dir, 'static'))
    await writeFile(path.join(dir, 'static', 'hello.txt'), 'from nginx\n')
    // The recipe itself, with this test's ports and paths.
    await startNginx(t, dir, { front, upstreams: [portA, portB], staticDir: path.join(dir, 'static') })

    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: SERVICES.redis.url,
      NOTES_REDIS_PREFIX: prefix,
      NOTES_ADMIN_PASSWORD: PASSWORD,
      NOTES_LOGIN_LIMIT: '1000',
      NOTES_DATA_DIR: path.join(dir, 'data'),
      CARAFE_SECRET: SECRET,
    }
    // Both start at once: their migrations and first-start admin account must not collide.
    let a = instance(t, portA, env)
    const b = instance(t, portB, env)
    await Promise.all([ready(a, 2), ready(b, 2)])

    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
    t.after(() => agent.destroy())
    // Static files come from nginx itself.
    const file = await request(agent, front, 'GET', '/static/hello.txt')
    assert.equal(file.status, 200)
    assert.equal(file.body, 'from nginx\n')
    assert.equal(file.headers['x-upstream'], undefined)

    // Log in through nginx with the CSRF-protected form.
    let cookie = ''
    const take = (r: Reply): void => {
      for (const c of r.headers['set-cookie'] ?? []) if (c.startsWith('sid=')) cookie = c.split(';')[0]!
    }
    const page = await request(agent, front, 'GET', '/login')
    take(page)
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!
    const login = await request(agent, front, 'POST', '/login', { cookie, 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ _csrf: token, email: 'admin@example.com', password: PASSWORD }).toString())
    assert.equal(login.status, 303, login.body)
    take(login)
    assert.match(cookie, /^sid=/)

    // Logged in, whichever instance answers.
    const seen = new Set<string>()
    for (let i = 0; i < 16; i++) {
      const r = await request(agent, front, 'GET', '/admin/', { cookie, accept: 'text/html' })
      assert.equal(r.status, 200, `request ${i} via ${r.headers['x-upstream']}`)
      seen.add(String(r.headers['x-upstream']))
    }
    assert.deepEqual([...seen].sort(), [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`].sort())
    // The client's address reaches the app through the trusted proxy only.

    // The session's CSRF token (rotated at login), sent in a header as a script would.
    const form = await request(agent, front, 'GET', '/notes/new', { cookie, accept: 'text/html' })
    assert.equal(form.status, 200, `${form.body.slice(0, 300)}\n${a.stderr().slice(-2000)}\n${b.stderr().slice(-2000)}`)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!

    // Writes under load: six clients create notes; every 201 is an acknowledged write.
    const acknowledged: string[] = []
    const failures: Array<{ at: number; what: string }> = []
    let running = true
    let n = 0
    const clients = 6
    const loops = Array.from({ length: clients }, async (_, k) => {
      const own = new http.Agent({ keepAlive: true, maxSockets: 1 })
      while (running) {
        const title = `note ${k}-${n++}`
        try {
          const r = await request(own, front, 'POST', '/notes', { cookie, accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrf }, JSON.stringify({ title, body: 'x' }))
          if (r.status === 201) acknowledged.push(title)
          else failures.push({ at: Date.now(), what: `${r.status} ${r.body.slice(0, 80)}` })
        } catch (e) {
          failures.push({ at: Date.now(), what: (e as Error).message })
        }
      }
      own.destroy()
    })
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
    await sleep(1500)
    const killedAt = Date.now()
    killInstance(a)
    await a.exited
    await sleep(1500)
    const beforeRestart = acknowledged.length
    a = instance(t, portA, env)
    await ready(a, 2)
    const reloadAt = Date.now()
    b.child.kill('SIGHUP')
    await b.waitFor(/reload done/, 60_000, 'stderr')
    await sleep(2500)
    running = false
    await Promise.all(loops)

    assert.ok(acknowledged.length > beforeRestart && beforeRestart > 20, `writes went on (${beforeRestart} before the restart, ${acknowledged.length} in all; failures: ${JSON.stringify(failures.slice(0, 3))})`)
    // Only requests the killed instance had in flight may fail: at most one per client, at the kill.
    const late = failures.filter((f) => f.at > killedAt + 3000 || f.at < killedAt)
    assert.deepEqual(late, [], 'no failure outside the moment of the kill (the reload included)')
    assert.ok(failures.length <= clients, `at most one failure per client at the kill: ${JSON.stringify(failures)}`)
    assert.ok(reloadAt > killedAt)

    console.log(`scale-out: ${acknowledged.length} writes acknowledged, ${failures.length} failed at the kill (${failures.map((f) => f.what).join('; ')})`)
    // Every acknowledged write is in PostgreSQL.
    const rows = await admin.query<{ title: string }>(`select title from ${schema}.notes`)
    const stored = new Set(rows.rows.map((r) => r.title))
    const missing = acknowledged.filter((title) => !stored.has(title))
    assert.deepEqual(missing, [])

    // Still logged in after all that, on both instances (the session lives in Redis).
    const after = new Set<string>()
    for (let i = 0; i < 16; i++) {
      const r = await request(agent, front, 'GET', '/admin/', { cookie, accept: 'text/html' })
      assert.equal(r.status, 200)
      after.add(String(r.headers['x-upstream']))
    }
    assert.equal(after.size, 2)
    b.child.kill('SIGTERM')
    a.child.kill('SIGTERM')
    assert.equal(await b.exited, 0)
    assert.equal(await a.exited, 0)
  })
})
