import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { hashId, memoryStore } from '../../src/session/index.js'
import { fakeCookieStore, later, start, user, type Jar } from './helpers.js'

const DAY = 86_400_000

/** Forget the session cookie, as a browser does at restart. */
function restart(jar: Jar): void {
  jar.cookies.delete('sid')
}

describe('remember-me', () => {
  it('c.login(user, { remember: true }) sets a 30-day HttpOnly cookie with a random token; the store keeps only its hash', async (t) => {
    const store = memoryStore()
    const s = await start(t, { users: [user(1)], session: { store } })
    const b = s.browser()
    const res = await b.post('/login/1?remember=1')
    const line = res.headers.getSetCookie().find((l) => l.startsWith('remember='))!
    assert.match(line, /^remember=[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/)
    const token = b.jar.cookies.get('remember')!
    assert.equal(await store.get(token), undefined)
    const rec = await store.get(hashId(`remember:${token}`))
    assert.equal(rec?.data.uid, 1)
    assert.ok(!JSON.stringify(rec).includes(token))
    assert.ok(rec!.expires > Date.now() + 29 * DAY)
  })

  it('with the session cookie gone (a browser restart) it logs in with a fresh session and rotates the token', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/login/1?remember=1')
    const firstToken = b.jar.cookies.get('remember')!
    const firstSid = b.jar.cookies.get('sid')!
    restart(b.jar)
    s.loads.length = 0
    const res = await b.send('/me')
    assert.equal((await res.json()).user, 1)
    assert.deepEqual(s.loads, [1])
    const sid = b.jar.cookies.get('sid')
    assert.ok(sid !== undefined && sid !== firstSid, 'a new session cookie')
    const token = b.jar.cookies.get('remember')!
    assert.notEqual(token, firstToken, 'the token is rotated on use')
    assert.match(res.headers.getSetCookie().find((l) => l.startsWith('remember='))!, /Max-Age=2592000/)
    // The session now carries the login: no remember lookup on the next request.
    assert.equal((await (await b.send('/me')).json()).user, 1)
    assert.equal(b.jar.cookies.get('remember'), token)
  })

  it('a rotated token works only for a short grace (tabs restored together), without issuing another', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/login/1?remember=1')
    const old = b.jar.cookies.get('remember')!
    restart(b.jar)
    await b.send('/me') // rotates
    const tab = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${old}` } })
    assert.equal((await tab.json()).user, 1, 'a tab sending the old token at the same time is logged in')
    assert.ok(!tab.headers.getSetCookie().some((l) => l.startsWith('remember=')), 'and gets no second token')
    const stale = await later(60_000, () => fetch(`${s.url}/me`, { headers: { cookie: `remember=${old}` } }))
    assert.equal((await stale.json()).user, null, 'past the grace the old token is dead')
    assert.ok(stale.headers.getSetCookie().some((l) => /^remember=; Max-Age=0/.test(l)), 'and cleared')
  })

  it('logout revokes it: the remember cookie replayed alone is not logged in (and is cleared)', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const b = s.browser()
    await b.post('/login/1?remember=1')
    const token = b.jar.cookies.get('remember')!
    const res = await b.post('/logout')
    assert.ok(res.headers.getSetCookie().some((l) => /^remember=; Max-Age=0/.test(l)))
    assert.equal(b.jar.cookies.has('remember'), false)
    s.loads.length = 0
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${token}` } })
    assert.equal((await replay.json()).user, null)
    assert.ok(replay.headers.getSetCookie().some((l) => /^remember=; Max-Age=0/.test(l)))
    assert.deepEqual(s.loads, [], 'a revoked token loads no user')
  })

  it('forged, truncated or expired remember cookies are ignored and cleared, never a 500', async (t) => {
    const s = await start(t, { users: [user(1)], auth: { remember: { maxAge: '2d' } } })
    for (const value of ['A'.repeat(43), 'short', 'x.y', '%00', 'a'.repeat(5000)]) {
      const res = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${value}` } })
      assert.equal(res.status, 200, value)
      assert.equal((await res.json()).user, null, value)
      assert.ok(res.headers.getSetCookie().some((l) => /^remember=; Max-Age=0/.test(l)), value)
    }
    assert.deepEqual(s.loads, [])
    const b = s.browser()
    await b.post('/login/1?remember=1')
    restart(b.jar)
    const expired = await later(3 * DAY, () => b.send('/me'))
    assert.equal((await expired.json()).user, null, 'past its maxAge')
  })

  it('a password change revokes remember cookies elsewhere; logoutOthers() re-issues this browser\'s', async (t) => {
    const s = await start(t, { users: [user(1)] })
    const laptop = s.browser()
    const phone = s.browser()
    await laptop.post('/login/1?remember=1')
    await phone.post('/login/1?remember=1')
    const before = laptop.jar.cookies.get('remember')!
    await laptop.post('/password/1')
    assert.notEqual(laptop.jar.cookies.get('remember'), before, 'a new token with the new version')
    restart(laptop.jar)
    restart(phone.jar)
    assert.equal((await (await laptop.send('/me')).json()).user, 1)
    const res = await phone.send('/me')
    assert.equal((await res.json()).user, null)
    assert.equal(phone.jar.cookies.has('remember'), false, 'the stale cookie is cleared')
  })

  it('a login without remember revokes an earlier remember cookie', async (t) => {
    const s = await start(t, { users: [user(1), user(2)] })
    const b = s.browser()
    await b.post('/login/1?remember=1')
    const token = b.jar.cookies.get('remember')!
    await b.post('/login/2')
    assert.equal(b.jar.cookies.has('remember'), false)
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${token}` } })
    assert.equal((await replay.json()).user, null)
  })

  it('on HTTPS the cookie is __Host-remember and Secure; options name it and set its age', async (t) => {
    const s = await start(t, { users: [user(1)], app: { trustProxy: true }, auth: { remember: { maxAge: '7d', cookie: 'keep' } } })
    const b = s.browser()
    const https = { 'x-forwarded-proto': 'https' }
    const res = await b.post('/login/1?remember=1', { headers: https })
    const line = res.headers.getSetCookie().find((l) => l.startsWith('__Host-keep='))!
    assert.match(line, /^__Host-keep=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    b.jar.cookies.delete('__Host-sid')
    assert.equal((await (await b.send('/me', { headers: https })).json()).user, 1)
    // A cookie without the prefix (which a plain-HTTP page or a subdomain could plant) is not read on HTTPS.
    const planted = await fetch(`${s.url}/me`, { headers: { ...https, cookie: `keep=${b.jar.cookies.get('__Host-keep')}` } })
    assert.equal((await planted.json()).user, null)
  })
})

describe('remember-me with a stateless session store', () => {
  it('falls back to a signed cookie with the user id and version: works after a restart, dies with a password change', async (t) => {
    const s = await start(t, { users: [user(1)], session: { store: fakeCookieStore() } })
    const b = s.browser()
    await b.post('/login/1?remember=1')
    const token = b.jar.cookies.get('remember')!
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    restart(b.jar)
    assert.equal((await (await b.send('/me')).json()).user, 1)
    const forged = token.replace(/^[^.]+/, Buffer.from(JSON.stringify({ u: 2, v: null, e: Date.now() + DAY })).toString('base64url'))
    const res = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${forged}` } })
    assert.equal((await res.json()).user, null, 'a changed payload fails the MAC')
    s.users.set(1, { ...s.users.get(1)!, passwordHash: 'new' })
    const after = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${token}` } })
    assert.equal((await after.json()).user, null, 'a password change revokes it')
  })

  it('logout clears it from the browser; a copy taken before stays valid until it expires or the password changes (documented)', async (t) => {
    const s = await start(t, { users: [user(1)], session: { store: fakeCookieStore() } })
    const b = s.browser()
    await b.post('/login/1?remember=1')
    const copy = b.jar.cookies.get('remember')!
    const res = await b.post('/logout')
    assert.ok(res.headers.getSetCookie().some((l) => /^remember=; Max-Age=0/.test(l)))
    const replay = await fetch(`${s.url}/me`, { headers: { cookie: `remember=${copy}` } })
    assert.equal((await replay.json()).user, 1)
  })
})
