import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { memoryStore, session, type SessionPlugin } from '../../src/session/index.js'
import { hash as rawHash } from '@node-rs/argon2'
import { auth, hashPassword, needsRehash, requireLogin, requireRole, verifyPassword, type AuthPlugin } from '../../src/auth/index.js'
import { serve } from '../helpers/server.js'
import { captureErrors } from '../helpers/capture.js'
import { Jar, OLD_SECRET, SECRET, start, user, type User } from './helpers.js'

describe('auth(): who is logged in', () => {
  it('a request without a session cookie calls no loadUser, sets no cookie and has c.user null', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const res = await fetch(`${s.url}/me`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { user: null, cart: null })
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(s.loads, [])
  })

  it('an anonymous session (no user id in it) calls no loadUser either', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/cart/3')
    assert.deepEqual(await (await b.send('/me')).json(), { user: null, cart: 3 })
    assert.deepEqual(s.loads, [])
  })

  it('loads the user once per request, however often c.user is read (guards included)', async (t) => {
    const s = await start(t, {
      users: [user(1, ['admin'])],
      setup: (app) => {
        app.get('/many', requireLogin(), requireRole('admin'), (c) => [c.user, c.user, c.user].map((u) => (u as User).id))
      },
    })
    const b = s.browser()
    await b.post('/login/1')
    assert.deepEqual(s.loads, [], 'c.login() does not load the user it was given')
    assert.deepEqual(await (await b.send('/many')).json(), [1, 1, 1])
    assert.deepEqual(s.loads, [1])
    await b.send('/many')
    assert.deepEqual(s.loads, [1, 1], 'once per request, not cached across requests')
  })

  it('a session whose user is gone is ended on the server (not just unused)', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/login/1')
    const sid = b.jar.cookies.get('sid')!
    s.users.delete(1)
    const res = await b.send('/me')
    assert.deepEqual((await res.json()).user, null)
    assert.match(res.headers.getSetCookie().join('\n'), /^sid=; Max-Age=0/m, 'the cookie is cleared')
    s.users.set(1, user(1))
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `sid=${sid}` } })
    assert.equal((await replay.json()).user, null, 'the session is gone, even with the user back')
  })
})

describe('c.login() / c.logout()', () => {
  it('login regenerates the session id: the pre-login cookie replayed is not logged in; anonymous data stays', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/cart/7')
    const before = b.jar.cookies.get('sid')!
    const res = await b.post('/login/1')
    assert.equal(res.status, 200)
    const after = b.jar.cookies.get('sid')!
    assert.notEqual(after, before)
    assert.match(after, /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(await (await b.send('/me')).json(), { user: 1, cart: 7 })
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `sid=${before}` } })
    assert.deepEqual(await replay.json(), { user: null, cart: null })
  })

  it('stores exactly $uid and $authv in the session (the hash itself never)', async (t) => {
    const store = memoryStore()
    const s = await start(t, { users: [user(1)], session: { store } })
    const b = s.browser()
    await b.post('/login/1')
    const { hashId } = await import('../../src/session/index.js')
    const stored = await store.get(hashId(b.jar.cookies.get('sid')!))
    assert.ok(stored !== undefined)
    const { $created, ...rest } = stored.data
    assert.equal(typeof $created, 'number')
    assert.deepEqual(Object.keys(rest).sort(), ['$authv', '$uid'])
    assert.equal(rest.$uid, 1, 'a numeric id stays a number')
    assert.match(String(rest.$authv), /^[A-Za-z0-9_-]{22}$/)
    assert.ok(!JSON.stringify(stored).includes('fake1'), 'nothing of the password hash is stored')
  })

  it('logging in as another user does not hand over the first user\'s session data', async (t) => {
    const s = await start(t, { users: [user(1), user(2)] })
    const b = s.browser()
    await b.post('/login/1')
    await b.post('/cart/5')
    await b.post('/login/2')
    assert.deepEqual(await (await b.send('/me')).json(), { user: 2, cart: null })
  })

  it('logout destroys the session server-side: the cookie replayed is not logged in', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/login/1')
    const sid = b.jar.cookies.get('sid')!
    const res = await b.post('/logout')
    assert.equal(res.status, 200)
    assert.match(res.headers.getSetCookie().join('\n'), /^sid=; Max-Age=0/m)
    assert.equal(b.jar.cookies.has('sid'), false)
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `sid=${sid}` } })
    assert.deepEqual(await replay.json(), { user: null, cart: null })
  })

  it('c.login() with a user without an id is a clear error (500, ERR_AUTH_USER_ID logged)', async (t) => {
    const s = await start(t, { setup: (app) => app.post('/bad', async (c) => { await c.login({ name: 'no id' } as never); return 'ok' }) })
    const { value: res, logged } = await captureErrors(() => fetch(`${s.url}/bad`, { method: 'POST' }))
    assert.equal(res.status, 500)
    assert.match(logged, /the user's id is missing/)
  })
})

describe('session version: a password change ends other sessions', () => {
  it('logoutOthers() after a password change keeps this session (with a new id) and ends the others', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const laptop = s.browser()
    const phone = s.browser()
    await laptop.post('/login/1')
    await phone.post('/login/1')
    const phoneSid = phone.jar.cookies.get('sid')!
    const before = laptop.jar.cookies.get('sid')!
    assert.equal((await (await phone.send('/me')).json()).user, 1)

    await laptop.post('/password/1')
    const after = laptop.jar.cookies.get('sid')!
    assert.notEqual(after, before, 'the session that changed the password gets a new id')
    assert.equal((await (await laptop.send('/me')).json()).user, 1, 'and stays logged in')
    const replayOld = await fetch(`${s.url}/me`, { headers: { cookie: `sid=${before}` } })
    assert.equal((await replayOld.json()).user, null, 'its old id no longer works')

    const res = await phone.send('/me')
    assert.equal((await res.json()).user, null, 'the other session is logged out')
    assert.match(res.headers.getSetCookie().join('\n'), /^sid=; Max-Age=0/m)
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `sid=${phoneSid}` } })
    assert.equal((await replay.json()).user, null)
  })

  it('a password change without logoutOthers() ends every session, this one too, at its next request', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/login/1')
    await b.post('/password/1?others=0')
    assert.equal((await (await b.send('/me')).json()).user, null)
  })

  it('sessionVersion(user) replaces the password hash as the version', async (t) => {
    const epochs = new Map([[1, 0]])
    const s = await start(t, {
      users: [user(1)],
      auth: { sessionVersion: (u) => epochs.get((u as User).id) },
      setup: (app) => app.post('/everywhere', async (c) => { epochs.set(1, epochs.get(1)! + 1); await c.logoutOthers(); return 'ok' }),
    })
    const a = s.browser()
    const b = s.browser()
    await a.post('/login/1')
    await b.post('/login/1')
    await s.browser(a.jar).post('/password/1?others=0') // the hash changes, but it is not the version now
    assert.equal((await (await b.send('/me')).json()).user, 1)
    await a.post('/everywhere')
    assert.equal((await (await a.send('/me')).json()).user, 1)
    assert.equal((await (await b.send('/me')).json()).user, null)
  })

  it('logoutOthers() for a user with no version source is a clear error, not a silent no-op', async (t) => {
    const bare = { id: 1, email: 'x@example.com', roles: [] } as unknown as User
    const s = await start(t, { users: [bare], setup: (app) => app.post('/others', async (c) => { await c.logoutOthers(); return 'ok' }) })
    const b = s.browser()
    await b.post('/login/1')
    assert.equal((await (await b.send('/me')).json()).user, 1, 'users without a hash field still log in')
    const { value: res, logged } = await captureErrors(() => b.post('/others'))
    assert.equal(res.status, 500)
    assert.match(logged, /has none: give users a passwordHash/)
  })

  it('rotating secrets keeps sessions logged in (the version is checked with every key and re-stamped with the newest)', async (t) => {
    const store = memoryStore()
    const u = user(1)
    const first = await start(t, { users: [u], session: { store }, secrets: [OLD_SECRET] })
    const b = first.browser()
    await b.post('/login/1')
    const { hashId } = await import('../../src/session/index.js')
    const key = hashId(b.jar.cookies.get('sid')!)
    const oldStamp = (await store.get(key))!.data.$authv
    // The same store, a new app process whose newest secret is new.
    const second = await start(t, { users: [u], session: { store }, secrets: [SECRET, OLD_SECRET] })
    const b2 = second.browser(b.jar)
    assert.equal((await (await b2.send('/me')).json()).user, 1)
    const newStamp = (await store.get(key))!.data.$authv
    assert.notEqual(newStamp, oldStamp, 're-stamped with the newest key')
    // Without the old secret, the old stamp would not have verified.
    const third = await start(t, { users: [u], session: { store }, secrets: [SECRET] })
    assert.equal((await (await third.browser(b.jar).send('/me')).json()).user, 1, 'the re-stamped session works under the new secret alone')
  })
})

describe('a login form (the flow of the docs)', () => {
  it('unknown email and wrong password get the same answer; a hash with old parameters is replaced at login', async (t) => {
    const weak = await rawHash('pw', { memoryCost: 4096, timeCost: 3, parallelism: 1 })
    const kim: User = { id: 1, email: 'kim@example.com', passwordHash: weak, roles: [] }
    const s = await start(t, {
      users: [kim],
      setup: (app, st) => app.post('/login', async (c) => {
        const f = await c.req.form()
        const found = [...st.users.values()].find((u) => u.email === f.text('email'))
        const password = f.text('password') ?? ''
        const ok = await verifyPassword(found?.passwordHash, password)
        if (found === undefined || !ok) return c.text('wrong email or password', 401)
        if (needsRehash(found.passwordHash)) st.users.set(found.id, { ...found, passwordHash: await hashPassword(password) })
        await c.login(st.users.get(found.id)!)
        return c.redirect(c.safeNext('/'))
      }),
    })
    const login = (email: string, password: string, next = '') => s.browser().post(`/login${next}`, { body: new URLSearchParams({ email, password }) })
    const unknown = await login('nobody@example.com', 'pw')
    const wrong = await login('kim@example.com', 'nope')
    assert.deepEqual([unknown.status, await unknown.text()], [401, 'wrong email or password'])
    assert.deepEqual([wrong.status, await wrong.text()], [401, 'wrong email or password'])
    const ok = await login('kim@example.com', 'pw', '?next=%2F%2Fevil.example')
    assert.equal(ok.status, 302)
    assert.equal(ok.headers.get('location'), '/', 'safeNext refused //evil.example')
    assert.match(s.users.get(1)!.passwordHash, /m=19456,t=2,p=1/, 'rehashed with the current parameters')
    // The rehash changed the hash, and the session was stamped after it: still logged in.
    const jar = new Jar()
    jar.take(ok)
    assert.equal((await (await s.browser(jar).send('/me')).json()).user, 1)
  })
})

describe('tampered input', () => {
  it('tampered, truncated or unknown session cookies read as logged out (200, user null), never a 500, and load no user', async (t) => {
    const s = await start(t, { users: [user(1)], setup: (app) => app.get('/private', requireLogin(), () => 'secret') })
    const b = s.browser()
    await b.post('/login/1')
    const sid = b.jar.cookies.get('sid')!
    const flipped = (sid[0] === 'A' ? 'B' : 'A') + sid.slice(1)
    for (const cookie of [`sid=${flipped}`, `sid=${sid.slice(0, 40)}`, `sid=${sid}x`, 'sid=', `sid=${'%'.repeat(43)}`, `sid=${flipped}; remember=${'x'.repeat(43)}`, `remember=..; sid=${'\u00e9'.repeat(10)}`]) {
      const res = await fetch(`${s.url}/me`, { headers: { cookie } })
      assert.equal(res.status, 200, cookie)
      assert.equal((await res.json()).user, null, cookie)
      assert.equal((await fetch(`${s.url}/private`, { headers: { cookie } })).status, 401, cookie)
    }
    assert.deepEqual(s.loads, [], 'no forged cookie reached loadUser')
    assert.equal((await (await b.send('/me')).json()).user, 1, 'the genuine cookie still works')
  })

  it('with tokens off, an Authorization header is ignored (not a login, not an error)', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const res = await fetch(`${s.url}/me`, { headers: { authorization: 'Bearer whatever' } })
    assert.equal(res.status, 200)
    assert.equal((await res.json()).user, null)
  })
})

describe('auth() set-up', () => {
  it('without session() installed before it, the first request is a 500 with ERR_AUTH_NEEDS_SESSION in the log', async (t) => {
    const app = new Carafe({ secrets: SECRET })
    app.use(auth({ loadUser: () => null }))
    app.get('/', () => 'hi')
    const s = await serve(t, app)
    const { value: res, logged } = await captureErrors(() => fetch(s.url))
    assert.equal(res.status, 500)
    assert.match(logged, /auth\(\) needs sessions: install session\(\) before it/)
  })

  it('refuses bad options at auth() time', () => {
    assert.throws(() => auth({} as never), /needs loadUser/)
    assert.throws(() => auth({ loadUser: () => null, loginUrl: 'https://evil.example/login' }), /path on this site/)
    assert.throws(() => auth({ loadUser: () => null, loginUrl: '//evil.example' }), /path on this site/)
    assert.throws(() => auth({ loadUser: () => null, realm: 'a"b' }), /realm/)
    assert.throws(() => auth({ loadUser: () => null, tokens: { scheme: 'Bad Scheme' } }), /scheme/)
    assert.throws(() => auth({ loadUser: () => null, remember: { cookie: '__Host-x' } }), /plain token/)
    assert.throws(() => auth({ loadUser: () => null, remember: { maxAge: 'forever' } }), /not a duration/)
  })

  it('sessionDataFor(user) gives the keys c.login() stores; a session made from them is logged in (the test client\'s loginAs)', async (t) => {
    const u = user(1)
    const s = await start(t, { users: [u] })
    const plugin = s.app.plugin<AuthPlugin>('auth')!
    const data = plugin.sessionDataFor(u, s.app)
    assert.deepEqual(Object.keys(data).sort(), ['$authv', '$uid'])
    assert.equal(data.$uid, 1)
    // After startup (listen ran it) the app is known, so the one-argument form works as well.
    assert.deepEqual(plugin.sessionDataFor(u), data)
    const cookie = await s.app.plugin<SessionPlugin>('session')!.createSession(s.app, data)
    const res = await fetch(`${s.url}/me`, { headers: { cookie: `${cookie.name}=${cookie.value}` } })
    assert.equal((await res.json()).user, 1)
    assert.throws(() => auth({ loadUser: () => null }).sessionDataFor(u), /needs the app/)
  })

  it('works through the Fetch door (app.request) too, without startup', async () => {
    const users = new Map([[1, user(1)]])
    const app = new Carafe({ secrets: SECRET })
    app.use(session())
    app.use(auth({ loadUser: (id) => users.get(id as number) }))
    app.post('/login', async (c) => { await c.login(users.get(1)!, { remember: true }); return 'ok' })
    app.get('/me', (c) => ({ user: (c.user as User | null)?.id ?? null }))
    const res = await app.request('/login', { method: 'POST' })
    const cookies = res.headers.getSetCookie().map((l) => l.split(';')[0]!)
    assert.equal(cookies.length, 2)
    const me = await app.request('/me', { headers: { cookie: cookies.join('; ') } })
    assert.deepEqual(await me.json(), { user: 1 })
    const remembered = await app.request('/me', { headers: { cookie: cookies.find((c) => c.startsWith('remember='))! } })
    assert.deepEqual(await remembered.json(), { user: 1 })
  })
})
