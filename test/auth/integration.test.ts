import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { auth, csrf, requireLogin } from '../../src/auth/index.js'
import { testClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'

const SECRET = 'integration-test-secret-0123456789abcdef'
const users = new Map([[1, { id: 1, name: 'Kim', passwordHash: 'h1' }], [2, { id: 2, name: 'Lee', passwordHash: 'h2' }]])

function app(): Carafe {
  const a = new Carafe({ secrets: SECRET })
  a.use(session())
  a.use(csrf())
  a.use(auth({ loadUser: (id) => users.get(id as number) }))
  a.get('/token', (c) => c.csrfToken())
  a.post('/login/<int:id>', async (c) => { await c.login(users.get(c.params.id)!); return 'in' })
  a.post('/note', (c) => `noted by ${(c.user as { name?: string } | null)?.name ?? 'nobody'}`)
  a.get('/me', requireLogin(), (c) => ({ name: (c.user as { name: string }).name }))
  return a
}

describe('session + csrf + auth together, over real HTTP', () => {
  it('client.loginAs(user) logs the client in with the real auth plugin (in process and over real HTTP)', async (t) => {
    const a = app()
    const inProcess = testClient(a)
    assert.equal((await inProcess.get('/me', { headers: { accept: 'application/json' } })).status, 401)
    await inProcess.loginAs(users.get(1)!)
    assert.deepEqual(await (await inProcess.get('/me')).json(), { name: 'Kim' })
    const s = await serve(t, a)
    const overHttp = testClient(a, { origin: s.url, fetch: (req) => fetch(req, { redirect: 'manual' }) })
    await overHttp.loginAs(users.get(2)!)
    assert.match(overHttp.cookie('sid') ?? '', /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(await (await overHttp.get('/me')).json(), { name: 'Lee' })
  })

  it('a CSRF token from before the login does not work after it (a new secret per login)', async (t) => {
    const a = app()
    const s = await serve(t, a)
    const client = testClient(a, { origin: s.url, fetch: (req) => fetch(req, { redirect: 'manual' }) })
    const before = await (await client.get('/token')).text()
    // No Origin, Referer or Sec-Fetch-Site (fetch in Node sends none): the token path.
    let res = await client.post('/note', { form: { _csrf: before } })
    assert.equal(await res.text(), 'noted by nobody')
    res = await client.post('/login/2', { form: { _csrf: before } })
    assert.equal(await res.text(), 'in')
    res = await client.post('/note', { form: { _csrf: before } })
    assert.equal(res.status, 403)
    const after = await (await client.get('/token')).text()
    res = await client.post('/note', { form: { _csrf: after } })
    assert.equal(await res.text(), 'noted by Lee')
  })
})
