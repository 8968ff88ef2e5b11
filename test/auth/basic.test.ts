import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { basicAuth, hashPassword, passwordLoad, requireRole } from '../../src/auth/index.js'
import { serve } from '../helpers/server.js'
import { start, user } from './helpers.js'

const basic = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`, 'utf8').toString('base64')}`

/** Whether an argon2 hash ran while `fn` was in flight (sampled every turn of the event loop). */
async function sawArgon2<T>(fn: () => Promise<T>): Promise<{ value: T; saw: boolean }> {
  let saw = false
  let done = false
  const poll = (): void => {
    if (passwordLoad().running > 0) saw = true
    if (!done) setImmediate(poll)
  }
  poll()
  try {
    return { value: await fn(), saw }
  } finally {
    done = true
  }
}

const ADMIN_HASH = await hashPassword('s3cret')
const KIM_HASH = await hashPassword('비밀')

async function app(t: import('node:test').TestContext) {
  const a = new Carafe()
  a.get('/admin', basicAuth({ users: { admin: ADMIN_HASH, 김철수: KIM_HASH }, realm: 'admin area' }), (c) => ({ user: c.user }))
  a.get('/open', () => 'open')
  return serve(t, a)
}

describe('basicAuth()', () => {
  it('asks for credentials: 401 with WWW-Authenticate: Basic realm="…", charset="UTF-8"', async (t) => {
    const s = await app(t)
    const res = await fetch(`${s.url}/admin`)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="admin area", charset="UTF-8"')
    assert.match(await res.text(), /needs a user name and password/)
    assert.equal((await fetch(`${s.url}/open`)).status, 200, 'other routes are not guarded')
  })

  it('lets the right user name and password in, with c.user = { name } (UTF-8 names and passwords too)', async (t) => {
    const s = await app(t)
    const ok = await fetch(`${s.url}/admin`, { headers: { authorization: basic('admin', 's3cret') } })
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { user: { name: 'admin' } })
    const kim = await fetch(`${s.url}/admin`, { headers: { authorization: basic('김철수', '비밀') } })
    assert.deepEqual(await kim.json(), { user: { name: '김철수' } })
    const lower = await fetch(`${s.url}/admin`, { headers: { authorization: `basic ${Buffer.from('admin:s3cret').toString('base64')}` } })
    assert.equal(lower.status, 200, 'the scheme is case-insensitive')
  })

  it('a wrong password and an unknown user get the same 401, and both go through argon2', async (t) => {
    const s = await app(t)
    const answers: string[] = []
    for (const [name, pw] of [['admin', 'wrong'], ['nobody', 's3cret']] as const) {
      const { value: res, saw } = await sawArgon2(() => fetch(`${s.url}/admin`, { headers: { authorization: basic(name, pw) } }))
      assert.equal(res.status, 401, name)
      assert.equal(saw, true, `${name}: checked with argon2`)
      answers.push(`${res.headers.get('www-authenticate')} ${await res.text()}`)
    }
    assert.equal(answers[0], answers[1])
  })

  it('malformed Authorization headers are a 401, never a 500', async (t) => {
    const s = await app(t)
    for (const authorization of ['Basic', 'Basic !!!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, 'Bearer abc', `Basic ${'A'.repeat(5000)}`, 'Basic =']) {
      const res = await fetch(`${s.url}/admin`, { headers: { authorization } })
      assert.equal(res.status, 401, authorization)
    }
  })

  it('takes a check function instead of a table; user(name) builds c.user; roles guards work after it', async (t) => {
    const a = new Carafe()
    const seen: string[] = []
    a.get('/ops', basicAuth({ users: (name, pw) => { seen.push(name); return name === 'ops' && pw === 'pw' }, user: (name) => ({ name, roles: ['ops'] }) }), requireRole('ops'), (c) => ({ user: c.user }))
    a.get('/root', basicAuth({ users: () => true }), requireRole('root'), () => 'root')
    const s = await serve(t, a)
    const ok = await fetch(`${s.url}/ops`, { headers: { authorization: basic('ops', 'pw') } })
    assert.deepEqual(await ok.json(), { user: { name: 'ops', roles: ['ops'] } })
    assert.equal((await fetch(`${s.url}/ops`, { headers: { authorization: basic('ops', 'no') } })).status, 401)
    assert.deepEqual(seen, ['ops', 'ops'])
    assert.equal((await fetch(`${s.url}/root`, { headers: { authorization: basic('x', 'y') } })).status, 403)
  })

  it('beside auth(): c.user is the Basic user on its routes, and c.logout() still reaches auth()', async (t) => {
    const s = await start(t, {
      users: [user(1)],
      setup: (a) => a.post('/basic-logout', basicAuth({ users: { admin: ADMIN_HASH } }), async (c) => { const who = c.user; await c.logout(); return { who } }),
    })
    const b = s.browser()
    await b.post('/login/1')
    const res = await b.post('/basic-logout', { headers: { authorization: basic('admin', 's3cret') } })
    assert.deepEqual(await res.json(), { who: { name: 'admin' } })
    assert.equal((await (await b.send('/me')).json()).user, null, 'the session login was ended')
  })

  it('refuses plain passwords in the table and bad realms at set-up', () => {
    assert.throws(() => basicAuth({ users: { admin: 's3cret' } }), /must be an argon2 hash/)
    assert.throws(() => basicAuth({ users: { 'a:b': ADMIN_HASH } }), /cannot contain ':'/)
    assert.throws(() => basicAuth({ users: () => true, realm: 'say "hi"' }), /realm/)
    assert.throws(() => basicAuth({} as never), /needs users/)
  })
})
