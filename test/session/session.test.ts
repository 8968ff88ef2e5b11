import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { Carafe } from '../../src/index.js'
import { memoryStore, seconds, session, type SessionOptions, type SessionStore } from '../../src/session/index.js'
import { serve } from '../helpers/server.js'
import { Jar } from '../helpers/jar.js'

/** A store that counts every call into it (and can be told to fail). */
function counting(inner: SessionStore = memoryStore()): SessionStore & { calls: string[]; patches: unknown[]; failing: boolean } {
  const calls: string[] = []
  const patches: unknown[] = []
  const out = {
    kind: inner.kind,
    calls,
    patches,
    failing: false,
    async get(id: string) { calls.push('get'); if (out.failing) throw new Error('connection refused'); return inner.get(id) },
    async apply(id: string, patch: Parameters<SessionStore['apply']>[1], ttl: number) { calls.push('apply'); patches.push(patch); if (out.failing) throw new Error('connection refused'); return inner.apply(id, patch, ttl) },
    async destroy(id: string) { calls.push('destroy'); return inner.destroy(id) },
    async touch(id: string, ttl: number) { calls.push('touch'); return inner.touch(id, ttl) },
  }
  return out
}

async function start(t: import('node:test').TestContext, options: SessionOptions & { trustProxy?: boolean } = {}, setup?: (app: Carafe) => void) {
  const { trustProxy, ...opts } = options
  const app = new Carafe({ trustProxy })
  app.use(session(opts))
  app.get('/', (c) => ({ n: c.session.get('n') ?? null, id: c.session.id, isNew: c.session.isNew, keys: c.session.keys() }))
  app.post('/set/<key>/<int:value>', (c) => { c.session.set(c.params.key, c.params.value); return 'ok' })
  app.post('/delete/<key>', (c) => { c.session.delete(c.params.key); return 'ok' })
  app.post('/regenerate', async (c) => { await c.session.regenerate(); return 'ok' })
  app.post('/destroy', async (c) => { await c.session.destroy(); return 'ok' })
  app.get('/plain', () => 'no session needed')
  setup?.(app)
  const s = await serve(t, app)
  const jar = new Jar()
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    if (jar.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', jar.header())
    const res = await fetch(s.url + path, { redirect: 'manual', ...init, headers })
    jar.take(res)
    return res
  }
  return { app, url: s.url, jar, send, post: (path: string, init: RequestInit = {}) => send(path, { method: 'POST', ...init }) }
}

describe('session(): cookies and store traffic', () => {
  it('a request without a session cookie does no store I/O and sets no cookie', async (t) => {
    const store = counting()
    const { send } = await start(t, { store })
    const res = await send('/')
    assert.deepEqual(await res.json(), { n: null, id: null, isNew: true, keys: [] })
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(store.calls, [])
  })

  it('saves a changed session once, with a 256-bit id in an HttpOnly, SameSite=Lax cookie, and stores only its hash', async (t) => {
    const inner = memoryStore()
    const store = counting(inner)
    const { post, send, jar } = await start(t, { store, maxAge: '1h' })
    const res = await post('/set/n/1')
    assert.equal(res.status, 200)
    const [cookie] = res.headers.getSetCookie()
    assert.match(cookie!, /^sid=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/)
    assert.deepEqual(store.calls, ['apply'])
    const id = jar.cookies.get('sid')!
    assert.equal(await inner.get(id), undefined, 'the raw id is not a key of the store')
    const body = await (await send('/')).json()
    assert.equal(body.n, 1)
    assert.equal(body.id, id)
    assert.equal(body.isNew, false)
    // Reading does not write, and an unchanged session sets no cookie.
    store.calls.length = 0
    const again = await send('/')
    assert.deepEqual(again.headers.getSetCookie(), [])
    assert.deepEqual(store.calls, ['get'])
  })

  it('writes only the keys that changed', async (t) => {
    const store = counting()
    const { post } = await start(t, { store })
    await post('/set/a/1')
    await post('/set/b/2')
    await post('/delete/a')
    const [, second, third] = store.patches as Array<{ set: Record<string, unknown>; delete?: string[] }>
    assert.deepEqual(second!.set, { b: 2 })
    assert.deepEqual(third!.delete, ['a'])
    assert.deepEqual(third!.set, {})
  })

  it('on HTTPS (through a trusted proxy) the cookie is __Host-sid and Secure; the plain-HTTP cookie is not read there', async (t) => {
    const { send, jar } = await start(t, { trustProxy: true })
    const https = { 'x-forwarded-proto': 'https' }
    const res = await send('/set/n/5', { method: 'POST', headers: https })
    assert.match(res.headers.getSetCookie()[0]!, /^__Host-sid=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    assert.equal((await (await send('/', { headers: https })).json()).n, 5)
    // A cookie without the prefix (which a subdomain or a plain-HTTP page could plant) is not read on HTTPS.
    const id = jar.cookies.get('__Host-sid')!
    const planted = await send('/', { headers: { ...https, cookie: `sid=${id}` } })
    assert.equal((await planted.json()).n, null)
  })

  it('a tampered, truncated or unknown cookie reads as no session (and is cleared), never a 500', async (t) => {
    const store = counting()
    const { post, url } = await start(t, { store })
    await post('/set/n/1')
    for (const value of ['x'.repeat(43), 'short', 'a'.repeat(43) + '%00', '', '"quoted"', 'x'.repeat(5000)]) {
      const res = await fetch(`${url}/`, { headers: { cookie: `sid=${value}` } })
      assert.equal(res.status, 200, value)
      assert.equal((await res.json()).n, null)
    }
    for (const value of ['x'.repeat(43), 'short']) {
      const res = await fetch(`${url}/`, { headers: { cookie: `sid=${value}` } })
      assert.match(res.headers.getSetCookie()[0] ?? '', /^sid=; Max-Age=0/, `${value} is cleared`)
    }
  })
})

describe('session(): expiry on the server side', () => {
  it('maxAge is absolute: a replayed cookie past it is no session, and the entry is gone from the store', async (t) => {
    const inner = memoryStore()
    const { post, send, jar } = await start(t, { store: inner, maxAge: 1 })
    await post('/set/n/1')
    const cookie = `sid=${jar.cookies.get('sid')}`
    assert.equal((await (await send('/')).json()).n, 1)
    await sleep(1100)
    const res = await send('/', { headers: { cookie } })
    assert.equal((await res.json()).n, null)
    assert.equal(inner.size, 0)
  })

  it('idleTimeout ends an unused session, and use (a throttled touch) keeps it alive', async (t) => {
    const store = counting()
    const { post, send, jar } = await start(t, { store, idleTimeout: 1, maxAge: '1h' })
    await post('/set/n/1')
    const cookie = `sid=${jar.cookies.get('sid')}`
    await sleep(600)
    assert.equal((await (await send('/')).json()).n, 1)
    assert.ok(store.calls.includes('touch'), 'a read after a while touches the session')
    await sleep(600)
    assert.equal((await (await send('/')).json()).n, 1, 'alive: the touch moved its expiry')
    store.calls.length = 0
    await send('/')
    assert.ok(!store.calls.includes('touch'), 'no touch right after one (throttled)')
    await sleep(1200)
    const res = await send('/', { headers: { cookie } })
    assert.equal((await res.json()).n, null, 'idle past the timeout: gone')
  })
})

describe('session(): regenerate, destroy, concurrency, limits', () => {
  it('regenerate() gives a new id and keeps the data; the old id stops working', async (t) => {
    const { post, send, jar } = await start(t)
    await post('/set/n/7')
    const old = jar.cookies.get('sid')!
    await post('/regenerate')
    const now = jar.cookies.get('sid')!
    assert.notEqual(now, old)
    assert.equal((await (await send('/')).json()).n, 7)
    const replay = await send('/', { headers: { cookie: `sid=${old}` } })
    assert.equal((await replay.json()).n, null)
  })

  it('destroy() ends the session on the server and clears the cookie; a replayed cookie is empty', async (t) => {
    const { post, send, jar } = await start(t)
    await post('/set/n/7')
    const old = jar.cookies.get('sid')!
    const res = await post('/destroy')
    assert.match(res.headers.getSetCookie()[0]!, /^sid=; Max-Age=0/)
    assert.equal(jar.cookies.has('sid'), false)
    const replay = await send('/', { headers: { cookie: `sid=${old}` } })
    assert.equal((await replay.json()).n, null)
  })

  it('two concurrent requests changing different keys both keep their change; the same key: the last write wins', async (t) => {
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    const { post, send } = await start(t, {}, (app) => {
      app.post('/slow/<key>/<int:value>', async (c) => {
        await gate
        c.session.set(c.params.key, c.params.value)
        return 'slow'
      })
    })
    await post('/set/start/1')
    const slow = post('/slow/a/1')
    await sleep(50)
    await post('/set/b/2')
    release()
    await slow
    const keys = (await (await send('/')).json()).keys
    assert.deepEqual(keys.sort(), ['a', 'b', 'start'])
  })

  it('oversized session data is a clear error and nothing is written', async (t) => {
    const store = counting()
    const errors: string[] = []
    const { post, send } = await start(t, { store, maxSize: 1000 }, (app) => {
      app.post('/big', (c) => { c.session.set('big', 'x'.repeat(2000)); return 'stored?' })
      app.onError((e) => { errors.push((e as Error).message); return e })
    })
    await post('/set/n/1')
    const applies = store.calls.filter((c) => c === 'apply').length
    const res = await post('/big')
    assert.equal(res.status, 500)
    assert.match(errors.join('\n'), /more than its limit of 1000/)
    assert.equal(store.calls.filter((c) => c === 'apply').length, applies, 'no write')
    assert.deepEqual((await (await send('/')).json()).keys, ['n'])
  })

  it('a store that is down gives 503 with a clear message to requests that need it; others keep working', async (t) => {
    const store = counting()
    const { post, send, url } = await start(t, { store })
    await post('/set/n/1')
    store.failing = true
    const res = await send('/', { headers: { accept: 'application/json' } })
    assert.equal(res.status, 503)
    assert.match((await res.json()).message, /session store is unavailable/)
    assert.equal(await (await fetch(`${url}/plain`)).text(), 'no session needed')
    store.failing = false
    assert.equal((await (await send('/')).json()).n, 1, 'back without a restart')
  })
})

describe('seconds()', () => {
  it('reads unit strings and numbers, and refuses the rest', () => {
    assert.equal(seconds('14d'), 14 * 86400)
    assert.equal(seconds('15m'), 900)
    assert.equal(seconds('2h'), 7200)
    assert.equal(seconds('500ms'), 0.5)
    assert.equal(seconds('1w'), 604800)
    assert.equal(seconds(30), 30)
    assert.throws(() => seconds('2 days'), /not a duration/)
    assert.throws(() => seconds(-1), /not a number of seconds/)
  })
})
