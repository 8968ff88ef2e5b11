import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { requireLogin, requirePermission, requireRole } from '../../src/auth/index.js'
import { serve } from '../helpers/server.js'
import { captureErrors } from '../helpers/capture.js'
import { start, user, type User } from './helpers.js'

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }
const JSON_ACCEPT = { accept: 'application/json' }

describe('requireLogin()', () => {
  it('sends a browser (Accept: text/html) to /login with next=<path and query>', async (t) => {
    const s = await start(t, { setup: (app) => app.get('/private/<name>', requireLogin(), (c) => `hello ${c.params.name}`) })
    const res = await fetch(`${s.url}/private/%EB%B0%A9?tab=1&x=%2F`, { headers: HTML, redirect: 'manual' })
    assert.equal(res.status, 302)
    const location = res.headers.get('location')!
    assert.equal(location, `/login?next=${encodeURIComponent('/private/%EB%B0%A9?tab=1&x=%2F')}`)
    assert.equal(new URL(location, s.url).searchParams.get('next'), '/private/%EB%B0%A9?tab=1&x=%2F')
  })

  it('answers an API client a 401 JSON with WWW-Authenticate (Session realm without tokens)', async (t) => {
    const s = await start(t, { setup: (app) => app.get('/private', requireLogin(), () => 'secret') })
    for (const headers of [JSON_ACCEPT, {}, { accept: '*/*' }]) {
      const res = await fetch(`${s.url}/private`, { headers })
      assert.equal(res.status, 401, JSON.stringify(headers))
      assert.equal(res.headers.get('www-authenticate'), 'Session realm="app"')
      assert.match(res.headers.get('content-type')!, /^application\/json/)
      assert.deepEqual(await res.json(), { error: 'Unauthorized', status: 401, message: 'log in to see this' })
    }
  })

  it('lets a logged-in user through, with typed route params', async (t) => {
    const s = await start(t, {
      users: [user(1)],
      setup: (app) => app.get('/items/<int:id>', requireLogin(), (c) => ({ id: c.params.id + 1, user: (c.user as User).id })),
    })
    const b = s.browser()
    await b.post('/login/1')
    const res = await b.send('/items/41', { headers: HTML })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { id: 42, user: 1 })
  })

  it('uses loginUrl and realm; a loginUrl with a query gets &next=', async (t) => {
    const s = await start(t, {
      auth: { loginUrl: '/accounts/login?lang=ko', realm: 'Carafe admin' },
      setup: (app) => app.get('/x', requireLogin(), () => 'x'),
    })
    const res = await fetch(`${s.url}/x`, { headers: HTML, redirect: 'manual' })
    assert.equal(res.headers.get('location'), '/accounts/login?lang=ko&next=%2Fx')
    const api = await fetch(`${s.url}/x`)
    assert.equal(api.headers.get('www-authenticate'), 'Session realm="Carafe admin"')
  })

  it('without auth() installed it is a clear error (ERR_NO_AUTH)', async (t) => {
    const app = new Carafe()
    app.get('/x', requireLogin(), () => 'x')
    const s = await serve(t, app)
    const { value: res, logged } = await captureErrors(() => fetch(`${s.url}/x`))
    assert.equal(res.status, 500)
    assert.match(logged, /requireLogin\(\) needs the auth middleware/)
  })
})

describe('requireRole() and requirePermission()', () => {
  async function app(t: import('node:test').TestContext) {
    return start(t, {
      users: [user(1, ['member']), user(2, ['admin']), user(3, ['editor', 'member'])],
      setup: (a) => {
        a.get('/admin', requireRole('admin'), () => 'admin area')
        a.get('/write', requireRole('admin', 'editor'), () => 'write')
        a.get('/both', requireRole('member'), requireRole('editor'), () => 'both')
        a.get('/own/<int:id>', requirePermission(async (u, c) => (u as User).id === c.params.id), () => 'yours')
      },
    })
  }

  it('401 when not logged in, 403 without the role, 200 with it', async (t) => {
    const s = await app(t)
    const anon = await fetch(`${s.url}/admin`)
    assert.equal(anon.status, 401)
    const member = s.browser()
    await member.post('/login/1')
    const forbidden = await member.json('/admin')
    assert.equal(forbidden.status, 403)
    assert.deepEqual(forbidden.body, { error: 'Forbidden', status: 403, message: 'this page needs the admin role' })
    const admin = s.browser()
    await admin.post('/login/2')
    const ok = await admin.send('/admin')
    assert.equal(ok.status, 200)
    assert.equal(await ok.text(), 'admin area')
  })

  it('several roles: any one of them will do; chained guards need each', async (t) => {
    const s = await app(t)
    const editor = s.browser()
    await editor.post('/login/3')
    assert.equal((await editor.send('/write')).status, 200)
    assert.equal((await editor.send('/both')).status, 200)
    const member = s.browser()
    await member.post('/login/1')
    assert.equal((await member.send('/write')).status, 403)
    assert.equal((await member.send('/both')).status, 403)
    assert.equal((await member.send('/admin', { headers: HTML })).status, 403, 'a logged-in browser gets 403, not a login redirect')
  })

  it('requirePermission(fn): the (async) check decides between 200 and 403; anonymous browsers go to login', async (t) => {
    const s = await app(t)
    const b = s.browser()
    const anon = await b.send('/own/1', { headers: HTML })
    assert.equal(anon.status, 302)
    assert.equal(anon.headers.get('location'), '/login?next=%2Fown%2F1')
    await b.post('/login/1')
    assert.equal((await b.send('/own/1')).status, 200)
    assert.equal((await b.send('/own/2')).status, 403)
  })

  it('refuses empty or non-string role lists and a non-function check at set-up', () => {
    assert.throws(() => requireRole(), /one or more role names/)
    assert.throws(() => requireRole(''), /one or more role names/)
    assert.throws(() => requirePermission('admin' as never), /takes a function/)
  })
})
