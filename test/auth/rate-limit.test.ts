import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { createClient } from 'redis'
import { Carafe, type CarafeOptions } from '../../src/index.js'
import { ipKey, rateLimit, type RateLimitOptions } from '../../src/auth/index.js'
import { serve } from '../helpers/server.js'
import { captureErrors } from '../helpers/capture.js'
import { needService, SERVICES, uniqueName } from '../helpers/services.js'

/** One limited route on a real server; `runs` counts the handler's runs. */
async function limitedSite(t: TestContext, limit: RateLimitOptions, app: CarafeOptions = {}): Promise<{ url: string; runs: () => number }> {
  const a = new Carafe(app)
  let runs = 0
  const limiter = rateLimit(limit)
  t.after(() => limiter.close())
  a.post('/login', limiter, () => { runs++; return 'welcome' })
  const s = await serve(t, a)
  return { url: s.url, runs: () => runs }
}

function post(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/login`, { method: 'POST', headers })
}

function headersOf(res: Response): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const name of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy', 'retry-after']) out[name] = res.headers.get(name)
  return out
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('rateLimit(): memory', () => {
  it('answers 429 with Retry-After and RateLimit-* once the limit is reached, without running the handler', async (t) => {
    const { url, runs } = await limitedSite(t, { window: '15m', max: 2 })
    const first = await post(url)
    assert.equal(first.status, 200)
    assert.equal(await first.text(), 'welcome')
    assert.deepEqual(headersOf(first), { 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '900', 'ratelimit-policy': '2;w=900', 'retry-after': null })
    assert.equal(headersOf(await post(url))['ratelimit-remaining'], '0')
    const over = await post(url)
    assert.equal(over.status, 429)
    const h = headersOf(over)
    assert.equal(h['ratelimit-remaining'], '0')
    assert.equal(h['ratelimit-limit'], '2')
    assert.ok(Number(h['retry-after']) >= 899 && Number(h['retry-after']) <= 900, String(h['retry-after']))
    assert.equal(h['ratelimit-reset'], h['retry-after'])
    assert.match(await over.text(), /^429 Too Many Requests: too many requests: at most 2 in 15m; try again in 9\d\d seconds\n$/)
    const json = await post(url, { accept: 'application/json' })
    assert.equal(json.status, 429)
    assert.equal(((await json.json()) as { message: string }).message.startsWith('too many requests'), true)
    assert.equal(runs(), 2)
  })

  it('starts counting again once the window is over', async (t) => {
    const { url, runs } = await limitedSite(t, { window: '300ms', max: 1, message: 'slow down' })
    assert.equal((await post(url)).status, 200)
    const over = await post(url)
    assert.equal(over.status, 429)
    assert.match(await over.text(), /slow down/)
    assert.equal(over.headers.get('retry-after'), '1')
    await wait(400)
    const again = await post(url)
    assert.equal(again.status, 200)
    assert.equal(again.headers.get('ratelimit-remaining'), '0')
    assert.equal(runs(), 2)
  })

  it('counts IPv6 clients by their /56, through a trusted proxy', async (t) => {
    const { url, runs } = await limitedSite(t, { window: '1h', max: 1 }, { trustProxy: 'loopback' })
    const from = (ip: string): Promise<Response> => post(url, { 'x-forwarded-for': ip })
    assert.equal((await from('2001:db8:0:100::1')).status, 200)
    assert.equal((await from('2001:db8:0:1ff:ffff:ffff:ffff:ffff')).status, 429, 'same /56')
    assert.equal((await from('2001:db8:0:200::1')).status, 200, 'the next /56')
    assert.equal((await from('::ffff:198.51.100.7')).status, 200)
    assert.equal((await from('198.51.100.7')).status, 429, '::ffff:v4 is v4')
    assert.equal(runs(), 3)
  })

  it('behind a trusted proxy counts each forwarded client; without trustProxy a spoofed X-Forwarded-For is ignored', async (t) => {
    const proxied = await limitedSite(t, { window: '1h', max: 1 }, { trustProxy: 'loopback' })
    assert.equal((await post(proxied.url, { 'x-forwarded-for': '203.0.113.5' })).status, 200)
    assert.equal((await post(proxied.url, { 'x-forwarded-for': '203.0.113.6' })).status, 200)
    assert.equal((await post(proxied.url, { 'x-forwarded-for': '203.0.113.5' })).status, 429)
    // A client that prepends addresses cannot get past the proxy's own entry.
    assert.equal((await post(proxied.url, { 'x-forwarded-for': '10.9.9.9, 203.0.113.5' })).status, 429)

    const direct = await limitedSite(t, { window: '1h', max: 1 })
    assert.equal((await post(direct.url, { 'x-forwarded-for': '203.0.113.5' })).status, 200)
    assert.equal((await post(direct.url, { 'x-forwarded-for': '203.0.113.99' })).status, 429, 'both are 127.0.0.1')
  })

  it('throttles per account and per IP on one route; the most restrictive limiter speaks; reset() forgets a key', async (t) => {
    const app = new Carafe()
    const perIp = rateLimit({ window: '15m', max: 4 })
    const perAccount = rateLimit({
      window: '15m',
      max: 2,
      key: async (c) => {
        const email = (await c.req.form()).text('email')?.trim().toLowerCase()
        return email ? `acct:${email}` : null
      },
    })
    app.post('/login', perIp, perAccount, async (c) => {
      const f = await c.req.form()
      const email = f.text('email')?.trim().toLowerCase()
      if (!email || f.text('password') !== 'right') return c.text('wrong email or password', 401)
      await perAccount.reset(`acct:${email}`)
      return 'welcome'
    })
    const s = await serve(t, app)
    const login = (fields: Record<string, string>): Promise<Response> => fetch(`${s.url}/login`, { method: 'POST', body: new URLSearchParams(fields) })
    const limits = (res: Response): [string | null, string | null] => [res.headers.get('ratelimit-limit'), res.headers.get('ratelimit-remaining')]
    const a1 = await login({ email: 'kim@example.com', password: 'wrong' })
    assert.equal(a1.status, 401)
    assert.deepEqual(limits(a1), ['2', '1'], 'the account limiter has fewer left')
    assert.equal((await login({ email: ' KIM@example.com', password: 'wrong' })).status, 401)
    const locked = await login({ email: 'kim@example.com', password: 'right' })
    assert.equal(locked.status, 429, 'the account is locked, even with the right password')
    assert.equal(locked.headers.get('ratelimit-limit'), '2')
    // Another account from the same IP still gets in, until the IP's own limit.
    const lee = await login({ email: 'lee@example.com', password: 'right' })
    assert.equal(lee.status, 200)
    assert.deepEqual(limits(lee), ['4', '0'], 'now the IP limiter has fewer left')
    const ipLocked = await login({ email: 'park@example.com', password: 'right' })
    assert.equal(ipLocked.status, 429)
    assert.equal(ipLocked.headers.get('ratelimit-limit'), '4')
    await perAccount.reset('acct:kim@example.com')
    await perIp.reset(ipKey('127.0.0.1'))
    assert.equal((await login({ email: 'kim@example.com', password: 'right' })).status, 200)
    // No email: the account limiter counts nothing and says nothing; the IP one does.
    const anonymous = await login({ password: 'right' })
    assert.equal(anonymous.status, 401)
    assert.deepEqual(limits(anonymous), ['4', '2'])
  })

  it('keeps its headers on an error response, and app-wide covers every route', async (t) => {
    const app = new Carafe()
    app.use(rateLimit({ window: '1m', max: 3 }))
    app.get('/boom', (c) => c.abort(400, 'bad input'))
    app.get('/ok', () => 'ok')
    const s = await serve(t, app)
    const boom = await fetch(`${s.url}/boom`)
    assert.equal(boom.status, 400)
    assert.equal(boom.headers.get('ratelimit-remaining'), '2')
    assert.equal((await fetch(`${s.url}/ok`)).headers.get('ratelimit-remaining'), '1')
    assert.equal((await fetch(`${s.url}/missing`)).status, 404)
    assert.equal((await fetch(`${s.url}/ok`)).status, 429)
  })

  it('refuses bad options when it is made', () => {
    assert.throws(() => rateLimit({ window: '15m', max: 0 }), /max must be a whole number/)
    assert.throws(() => rateLimit({ window: 'soon', max: 1 }), /not a duration/)
    assert.throws(() => rateLimit({ window: 0, max: 1 }), /longer than 0/)
    assert.throws(() => rateLimit({ window: '1.5s', max: 1, store: { redis: SERVICES.redis.url } }), /whole seconds/)
  })
})

describe('ipKey', () => {
  it('keeps IPv4, unwraps ::ffff:v4, and cuts IPv6 to its /56', () => {
    assert.equal(ipKey('203.0.113.5'), '203.0.113.5')
    assert.equal(ipKey('::ffff:203.0.113.5'), '203.0.113.5')
    assert.equal(ipKey('::ffff:cb00:7105'), '203.0.113.5')
    assert.equal(ipKey('2001:db8::1'), '2001:db8:0:0::/56')
    assert.equal(ipKey('2001:db8:0:ff:ffff::1'), '2001:db8:0:0::/56')
    assert.equal(ipKey('2001:DB8:1:2345:6789::'), '2001:db8:1:2300::/56')
    assert.equal(ipKey('[2001:db8:1:2345::1]'), '2001:db8:1:2300::/56')
    assert.equal(ipKey('fe80::1%eth0'), 'fe80:0:0:0::/56')
    assert.equal(ipKey('::1'), '0:0:0:0::/56')
    assert.equal(ipKey('64:ff9b::198.51.100.7'), '64:ff9b:0:0::/56')
    assert.equal(ipKey(undefined), 'unknown')
  })
})

describe('rateLimit(): Redis', () => {
  it('shares counts between two apps that use the same Redis and prefix', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const prefix = uniqueName('carafe_test_rl')
    t.after(() => removeKeys(prefix))
    const a = await limitedSite(t, { window: 60, max: 3, store: { redis: SERVICES.redis.url, prefix } })
    const b = await limitedSite(t, { window: 60, max: 3, store: { redis: SERVICES.redis.url, prefix } })
    assert.equal((await post(a.url)).status, 200)
    assert.equal((await post(a.url)).status, 200)
    const third = await post(b.url)
    assert.equal(third.status, 200)
    assert.equal(third.headers.get('ratelimit-remaining'), '0')
    const over = await post(b.url)
    assert.equal(over.status, 429)
    assert.ok(Number(over.headers.get('retry-after')) > 0 && Number(over.headers.get('retry-after')) <= 60)
    assert.equal((await post(a.url)).status, 429)
    assert.equal(a.runs() + b.runs(), 3)
    const other = await limitedSite(t, { window: 60, max: 3, store: { redis: SERVICES.redis.url, prefix: `${prefix}_other` } })
    t.after(() => removeKeys(`${prefix}_other`))
    assert.equal((await post(other.url)).status, 200, 'another prefix counts on its own')
  })

  it('answers 503 while Redis is unreachable, keeps serving, and recovers when it is back', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const prefix = uniqueName('carafe_test_rl')
    t.after(() => removeKeys(prefix))
    const proxy = await tcpProxy(t, SERVICES.redis.port)
    const app = new Carafe()
    const limiter = rateLimit({ window: 60, max: 100, store: { redis: `redis://127.0.0.1:${proxy.port}`, prefix } })
    t.after(() => limiter.close())
    app.post('/login', limiter, () => 'welcome')
    app.get('/health', () => 'fine')
    const s = await serve(t, app)
    assert.equal((await post(s.url)).status, 200)

    const down = await captureErrors(async () => {
      await proxy.stop()
      const res = await untilStatus(() => post(s.url), 503)
      assert.match(await res.text(), /the rate limiter cannot count requests right now \(its store is unavailable\)/)
      assert.equal(res.headers.get('retry-after'), '1')
      assert.equal(await (await fetch(`${s.url}/health`)).text(), 'fine')
      await proxy.start()
      return untilStatus(() => post(s.url), 200)
    })
    assert.equal(await down.value.text(), 'welcome')
    assert.match(down.logged, /rateLimit: Redis at redis:\/\/127\.0\.0\.1:\d+ is unavailable/)
  })

  it('uses your own node-redis client, and fails fast (503, not a hang) when it loses Redis', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const prefix = uniqueName('carafe_test_rl')
    t.after(() => removeKeys(prefix))
    const proxy = await tcpProxy(t, SERVICES.redis.port)
    // node-redis's defaults: commands queue while disconnected.
    const client = createClient({ url: `redis://127.0.0.1:${proxy.port}` })
    client.on('error', () => {})
    await client.connect()
    t.after(() => client.destroy())
    const { url, runs } = await limitedSite(t, { window: 60, max: 2, store: { redis: client, prefix } })
    assert.equal((await post(url)).status, 200)
    assert.equal((await post(url)).status, 200)
    assert.equal((await post(url)).status, 429)
    await proxy.stop()
    while (client.isReady) await wait(10)
    const { value } = await captureErrors(async () => {
      const started = Date.now()
      const res = await post(url)
      return { status: res.status, ms: Date.now() - started }
    })
    assert.equal(value.status, 503)
    // Refused at once, not after the command timeout (node-redis would have queued it).
    assert.ok(value.ms < 1000, `took ${value.ms} ms`)
    assert.equal(runs(), 2)
  })

  it('answers 503 when Redis was never there, or lets requests through with onStoreError: allow', async (t) => {
    const port = await closedPort()
    const { value, logged } = await captureErrors(async () => {
      const refuse = await limitedSite(t, { window: 60, max: 5, store: { redis: `redis://127.0.0.1:${port}` } })
      const allow = await limitedSite(t, { window: 60, max: 5, store: { redis: `redis://127.0.0.1:${port}` }, onStoreError: 'allow' })
      const started = Date.now()
      const r1 = await post(refuse.url)
      const r2 = await post(allow.url)
      return { r1: r1.status, r2: r2.status, text: await r2.text(), ms: Date.now() - started, runs: refuse.runs() + allow.runs() }
    })
    assert.deepEqual({ r1: value.r1, r2: value.r2, text: value.text, runs: value.runs }, { r1: 503, r2: 200, text: 'welcome', runs: 1 })
    assert.ok(value.ms < 5000, `took ${value.ms} ms`)
    assert.match(logged, /is unavailable/)
  })
})

/** Poll until `send()` answers `status` (a reconnect takes a moment), failing after 8 s. */
async function untilStatus(send: () => Promise<Response>, status: number): Promise<Response> {
  const deadline = Date.now() + 8000
  for (;;) {
    const res = await send()
    if (res.status === status) return res
    await res.arrayBuffer()
    if (Date.now() > deadline) throw new Error(`still ${res.status}, expected ${status}`)
    await wait(100)
  }
}

/** A TCP pass-through to a local port that can be stopped (connections cut) and started again on the same port. */
async function tcpProxy(t: TestContext, target: number): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let server: Server | null = null
  let port = 0
  const start = (): Promise<void> => new Promise((resolve, reject) => {
    const srv = createServer((inbound) => {
      const outbound = connect(target, '127.0.0.1')
      for (const s of [inbound, outbound]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => { inbound.destroy(); outbound.destroy() })
      }
      inbound.pipe(outbound).pipe(inbound)
    })
    srv.once('error', reject)
    srv.listen(port, '127.0.0.1', () => {
      port = (srv.address() as { port: number }).port
      server = srv
      resolve()
    })
  })
  const stop = (): Promise<void> => new Promise((resolve) => {
    for (const s of sockets) s.destroy()
    if (server === null) return resolve()
    server.close(() => resolve())
    server = null
  })
  await start()
  t.after(stop)
  return { get port() { return port }, stop, start }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as { port: number }
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

/** Delete this test's keys (never a flush: the Redis is shared). */
async function removeKeys(prefix: string): Promise<void> {
  const client = createClient({ url: SERVICES.redis.url })
  client.on('error', () => {})
  await client.connect()
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) {
      if (keys.length > 0) await client.del(keys)
    }
  } finally {
    await client.close()
  }
}
