import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose'
import { issueToken, requireLogin } from '../../src/auth/index.js'
import { deriveKey } from '../../src/index.js'
import { captureErrors } from '../helpers/capture.js'
import { OLD_SECRET, SECRET, start, user, type StartOptions, type User } from './helpers.js'

/** An app with tokens on: POST /api/token/<id> issues one, GET /api/me needs a login, GET /api/public does not. */
function api(t: import('node:test').TestContext, options: StartOptions = {}) {
  return start(t, {
    users: [user(1), user(2)],
    auth: { tokens: true },
    ...options,
    setup: (app, st) => {
      app.post('/api/token/<int:id>', async (c) => ({ token: await issueToken(c, st.users.get(c.params.id)!, { expiresIn: c.query('ttl') }) }))
      app.get('/api/me', requireLogin(), (c) => ({ id: (c.user as User).id }))
      app.get('/api/public', (c) => ({ user: (c.user as User | null)?.id ?? null }))
    },
  })
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
const now = (): number => Math.floor(Date.now() / 1000)

async function token(s: { url: string }, id = 1, ttl?: string): Promise<string> {
  const res = await fetch(`${s.url}/api/token/${id}${ttl === undefined ? '' : `?ttl=${ttl}`}`, { method: 'POST' })
  assert.equal(res.status, 200)
  return ((await res.json()) as { token: string }).token
}

async function me(s: { url: string }, authorization: string) {
  const res = await fetch(`${s.url}/api/me`, { headers: { authorization } })
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as Record<string, unknown> }
}

describe('auth({ tokens }): bearer tokens', () => {
  it('issueToken makes an HS256 JWT with sub, iat and exp; Bearer <it> logs the request in (loadUser gets the numeric id)', async (t) => {
    const s = await api(t)
    const jwt = await token(s, 1, '10m')
    const byDefault = decodeJwt(await token(s, 1))
    assert.equal(byDefault.exp! - byDefault.iat!, 3600, "default: tokens' maxAge, 1h")
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'HS256', typ: 'JWT' })
    const claims = decodeJwt(jwt)
    assert.equal(claims.sub, '1')
    assert.equal(claims.uid, 1)
    assert.equal(claims.exp! - claims.iat!, 600)
    assert.equal(typeof claims.ver, 'string', 'the session version rides along')
    const res = await me(s, `Bearer ${jwt}`)
    assert.deepEqual(res, { status: 200, challenge: null, body: { id: 1 } })
    assert.deepEqual(s.loads, [1])
    assert.equal((await me(s, `bearer ${jwt}`)).status, 200, 'the scheme is case-insensitive')
  })

  it('a token request carries no session: no cookie is set', async (t) => {
    const s = await api(t)
    const res = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${await token(s)}` } })
    assert.equal(res.status, 200)
    assert.deepEqual(res.headers.getSetCookie(), [])
  })

  it('an expired token is a 401 that says it expired', async (t) => {
    const s = await api(t)
    const jwt = await new SignJWT({ uid: 1 }).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setIssuedAt(now() - 120).setExpirationTime(now() - 60).sign(s.app.key('token'))
    const res = await me(s, `Bearer ${jwt}`)
    assert.equal(res.status, 401)
    assert.equal(res.challenge, 'Bearer realm="app", error="invalid_token", error_description="the token has expired"')
    assert.deepEqual(res.body, { error: 'Unauthorized', status: 401, message: 'the token has expired', reason: 'expired' })
    assert.deepEqual(s.loads, [], 'no user is loaded for a refused token')
  })

  it('refuses alg:none, RS256-labelled, wrong-key, tampered, exp-less and garbage tokens as invalid (401, never 500)', async (t) => {
    const s = await api(t)
    const good = await token(s, 1)
    const [h, p] = good.split('.')
    const exp = now() + 600
    const hmac = (key: Uint8Array, data: string) => createHmac('sha256', key).update(data).digest('base64url')
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', uid: 1, exp })}.`
    // Algorithm confusion: an RS256 header over an HMAC made with the app's own key.
    const rsHead = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: '1', exp })}`
    const rs256 = `${rsHead}.${hmac(s.app.key('token'), rsHead)}`
    const wrongKey = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime(exp).sign(deriveKey('another-secret-0123456789abcdef0123456789', 'token'))
    const otherPurpose = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime(exp).sign(s.app.key('cookie'))
    const tampered = `${h}.${b64({ ...decodeJwt(good), sub: '2', uid: 2 })}.${good.split('.')[2]}`
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').sign(s.app.key('token'))
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(s.app.key('token'))
    const uidMismatch = await new SignJWT({ uid: 2 }).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime(exp).sign(s.app.key('token'))
    const cases = { none, rs256, wrongKey, otherPurpose, tampered, noExp, noSub, uidMismatch, garbage: 'abc', dots: '...', huge: 'a'.repeat(9000), truncated: `${h}.${p}` }
    for (const [name, jwt] of Object.entries(cases)) {
      const res = await me(s, `Bearer ${jwt}`)
      assert.equal(res.status, 401, name)
      assert.equal(res.body.reason, 'invalid', name)
      assert.equal(res.body.message, 'the token is invalid', name)
      assert.match(res.challenge!, /^Bearer realm="app", error="invalid_token"/, name)
    }
    assert.deepEqual(s.loads, [], 'none of them reached loadUser')
    assert.equal((await me(s, `Bearer ${good}`)).status, 200, 'the genuine one still works')
  })

  it('a bad token is a 401 even on a public route (no silent fall-back to anonymous or to the session)', async (t) => {
    const s = await api(t)
    const res = await fetch(`${s.url}/api/public`, { headers: { authorization: 'Bearer nope' } })
    assert.equal(res.status, 401)
    const anon = await fetch(`${s.url}/api/public`)
    assert.deepEqual(await anon.json(), { user: null })
  })

  it('another scheme is not ours: ignored (401 asking for Bearer from requireLogin, the public route anonymous)', async (t) => {
    const s = await api(t)
    const jwt = await token(s)
    const res = await me(s, `Token ${jwt}`)
    assert.equal(res.status, 401)
    assert.equal(res.challenge, 'Bearer realm="app"')
    assert.equal(res.body.message, 'log in to see this')
    const pub = await fetch(`${s.url}/api/public`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })
    assert.deepEqual(await pub.json(), { user: null })
  })

  it('tokens: { scheme: "Token" } accepts Authorization: Token <jwt> (Django REST framework style), and not Bearer', async (t) => {
    const s = await api(t, { auth: { tokens: { scheme: 'Token', maxAge: '2h' } } })
    const jwt = await token(s, 1)
    assert.equal(decodeJwt(jwt).exp! - decodeJwt(jwt).iat!, 7200)
    assert.equal((await me(s, `Token ${jwt}`)).status, 200)
    const bearer = await me(s, `Bearer ${jwt}`)
    assert.equal(bearer.status, 401)
    assert.equal(bearer.challenge, 'Token realm="app"')
  })

  it('tokens made under an old secret keep working after rotation (verified with every key)', async (t) => {
    const old = await api(t, { secrets: [OLD_SECRET] })
    const jwt = await token(old)
    const rotated = await api(t, { secrets: [SECRET, OLD_SECRET] })
    assert.equal((await me(rotated, `Bearer ${jwt}`)).status, 200)
    const dropped = await api(t, { secrets: [SECRET] })
    assert.equal((await me(dropped, `Bearer ${jwt}`)).body.reason, 'invalid', 'once the old secret is gone, so are its tokens')
  })

  it('a password change revokes the user\'s tokens; a deleted user\'s token stops working', async (t) => {
    const s = await api(t)
    const jwt = await token(s, 1)
    const jwt2 = await token(s, 2)
    s.users.set(1, { ...s.users.get(1)!, passwordHash: 'changed' })
    const res = await me(s, `Bearer ${jwt}`)
    assert.equal(res.status, 401)
    assert.equal(res.body.reason, 'revoked')
    s.users.delete(2)
    assert.equal((await me(s, `Bearer ${jwt2}`)).body.reason, 'revoked')
  })

  it('issueToken without tokens turned on is a clear error', async (t) => {
    const s = await start(t, { users: [user(1)], setup: (app, st) => app.post('/t', async (c) => ({ token: await issueToken(c, st.users.get(1)!) })) })
    const { value: res, logged } = await captureErrors(() => fetch(`${s.url}/t`, { method: 'POST' }))
    assert.equal(res.status, 500)
    assert.match(logged, /issueToken\(\) needs tokens turned on/)
  })
})
