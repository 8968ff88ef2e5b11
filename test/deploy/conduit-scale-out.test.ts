import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { appDir, ROOT, spawnCli } from '../helpers/spawn.js'
import { needService, ownPgSchema, ownRedisPrefix, SERVICES } from '../helpers/services.js'
import { freePort, startNginx } from '../helpers/nginx.js'


interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

function request(port: number, method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent: false, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }))
    })
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

describe('Conduit scaled out behind nginx (deploy/nginx.conf)', { timeout: 180_000 }, () => {
  it('two `carafe start` instances on PostgreSQL and Redis: a sign-up sticks on both, a comment posted through one reaches a reader streaming from the other', async (t) => {
    if (!(await needService(t, 'postgres')) || !(await needService(t, 'redis'))) return
    const { url: databaseUrl } = await ownPgSchema(t, 'conduit')
    const prefix = ownRedisPrefix(t, 'conduit')
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const [front, portA, portB] = [await freePort(), await freePort(), await freePort()]
    await startNginx(t, dir, { front, upstreams: [portA, portB], staticDir: path.join(ROOT, 'examples/conduit/static') })

    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: SERVICES.redis.url, CONDUIT_REDIS_PREFIX: prefix, CONDUIT_DATA_DIR: path.join(dir, 'data'),
      CONDUIT_ADMIN_PASSWORD: 'admin password 1', CONDUIT_LOGIN_LIMIT: '1000', CARAFE_SECRET: 'conduit-scale-out-secret-0123456789abcdefghij',
    }
    const start = (port: number) => spawnCli(t, ['start', 'examples/conduit/app.ts', '--port', String(port), '--host', '127.0.0.1', '--workers', '1', '--trust-proxy', 'loopback', '--log', 'off', '--graceful-timeout', '2'], env)
    // Both at once: the migrations and the first-start seed must not collide.
    const a = start(portA)
    const b = start(portB)
    await Promise.all([a.waitFor(/\) ready/, 30_000, 'stderr'), b.waitFor(/\) ready/, 30_000, 'stderr')])

    // The demo articles are there once, whoever seeded them.
    const home = await request(front, 'GET', '/')
    assert.equal(home.status, 200)
    assert.equal(home.body.match(/<h2>Welcome to Conduit<\/h2>/g)?.length, 1)
    // Static files come from nginx itself.
    const css = await request(front, 'GET', '/static/conduit.css')
    assert.equal(css.status, 200)
    assert.equal(css.headers['x-upstream'], undefined)

    // Sign up with the CSRF-protected form through nginx; signed in on both instances.
    let cookie = ''
    const take = (r: Reply): void => {
      for (const c of r.headers['set-cookie'] ?? []) if (c.startsWith('sid=')) cookie = c.split(';')[0]!
    }
    const form = await request(front, 'GET', '/register')
    take(form)
    let token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!
    const signUp = await request(front, 'POST', '/register', { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, new URLSearchParams({ _csrf: token, username: 'scaler', email: 'scaler@example.test', password: 'scaler password' }).toString())
    assert.equal(signUp.status, 303, signUp.body)
    take(signUp)
    const seen = new Set<string>()
    for (let i = 0; i < 8; i++) {
      const r = await request(front, 'GET', '/settings', { cookie, accept: 'text/html' })
      assert.equal(r.status, 200, `request ${i} via ${r.headers['x-upstream']}`)
      assert.match(r.body, /value="scaler@example.test"/)
      token = /name="_csrf" value="([^"]+)"/.exec(r.body)![1]!
      seen.add(String(r.headers['x-upstream']))
    }
    assert.equal(seen.size, 2, `both instances answered: ${[...seen]}`)

    // A reader streams the article's comments from one instance...
    const events: string[] = []
    let streamUpstream = ''
    const stream = http.get({ host: '127.0.0.1', port: front, path: '/article/welcome-to-conduit/live', agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      streamUpstream = String(res.headers['x-upstream'])
      res.setEncoding('utf8').on('data', (d: string) => events.push(d))
    })
    t.after(() => stream.destroy())
    const until = async (check: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50))
      assert.ok(check(), what)
    }
    await until(() => streamUpstream !== '', 'the stream opened')
    // ...and comments are posted until one goes through the other instance.
    let crossed = ''
    for (let i = 0; i < 6 && crossed === ''; i++) {
      const r = await request(front, 'POST', '/article/welcome-to-conduit/comments', { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, new URLSearchParams({ _csrf: token, body: `hello ${i} from afar` }).toString())
      assert.equal(r.status, 303, r.body)
      if (String(r.headers['x-upstream']) !== streamUpstream) crossed = `hello ${i} from afar`
    }
    assert.notEqual(crossed, '', 'a comment went through the other instance')
    await until(() => events.join('').includes(crossed), `the reader on ${streamUpstream} got "${crossed}" (Redis pub/sub): ${events.join('')}`)
    assert.match(events.join(''), /event: comment\nid: \d+\ndata: \{/)

    for (const p of [a, b]) p.child.kill('SIGTERM')
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0])
  })
})
