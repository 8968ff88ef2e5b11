import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, type Middleware, type Plugin } from '../../src/index.js'
import { DOORS, serve } from '../helpers/server.js'

/** A guard as a battery writes one: answers 401 unless the request carries `x-ok`. */
function guard(tag: string): Middleware {
  return async (c, next) => {
    if (c.req.header('x-ok') !== 'yes') return c.text(`no (${tag})`, 401)
    c.header('x-guard', tag, { append: true })
    await next()
  }
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`per-route middleware through the ${door} door`, () => {
    it('runs only on its route, in order, inside the app middleware, with typed params', async (t) => {
      const app = new Carafe()
      const order: string[] = []
      app.use(async (c, next) => { order.push('app'); await next() })
      app.get('/open', () => 'open')
      app.get('/users/<int:id>', guard('a'), guard('b'), (c) => {
        order.push('handler')
        const id: number = c.params.id
        return { id }
      })
      app.post('/users/<int:id>', guard('post'), (c) => ({ posted: c.params.id + 1 }))
      const fetch = await open(app, t)
      let res = await fetch('/users/7')
      assert.equal(res.status, 401)
      assert.equal(await res.text(), 'no (a)')
      assert.deepEqual(order, ['app'])
      order.length = 0
      res = await fetch('/users/7', { headers: { 'x-ok': 'yes' } })
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { id: 7 })
      assert.equal(res.headers.get('x-guard'), 'a, b')
      assert.deepEqual(order, ['app', 'handler'])
      res = await fetch('/users/7', { method: 'POST', headers: { 'x-ok': 'yes' } })
      assert.deepEqual(await res.json(), { posted: 8 })
      res = await fetch('/open')
      assert.equal(await res.text(), 'open')
    })

    it('works without app middleware, and keeps (pattern, handler, options)', async (t) => {
      const app = new Carafe()
      app.get('/g', guard('only'), () => 'guarded')
      app.get('/named/<name>', (c) => c.url('named', { name: c.params.name }), { name: 'named' })
      app.route('/multi', { methods: ['GET', 'POST'] }, guard('m'), (c) => c.method)
      app.route('/plain', guard('p'), () => 'plain')
      const fetch = await open(app, t)
      assert.equal((await fetch('/g')).status, 401)
      assert.equal(await (await fetch('/g', { headers: { 'x-ok': 'yes' } })).text(), 'guarded')
      assert.equal(await (await fetch('/named/x')).text(), '/named/x')
      assert.equal((await fetch('/multi', { method: 'POST' })).status, 401)
      assert.equal(await (await fetch('/multi', { method: 'POST', headers: { 'x-ok': 'yes' } })).text(), 'POST')
      assert.equal(await (await fetch('/plain', { headers: { 'x-ok': 'yes' } })).text(), 'plain')
      assert.equal((await fetch('/plain')).status, 401)
    })

    it('a route middleware that throws an HttpError gives that status', async (t) => {
      const app = new Carafe()
      app.get('/x', (c, next) => { if (c.query('k') !== '1') c.abort(403, 'need k'); return next() }, () => 'in')
      const fetch = await open(app, t)
      const res = await fetch('/x')
      assert.equal(res.status, 403)
      assert.match(await res.text(), /need k/)
      assert.equal(await (await fetch('/x?k=1')).text(), 'in')
    })
  })
}

describe('plugins: app.use({ middleware, startup, shutdown })', () => {
  it('runs the middleware, and startup before listening, shutdown after drain', async (t) => {
    const app = new Carafe()
    const events: string[] = []
    const plugin: Plugin = {
      name: 'probe',
      middleware: async (c, next) => { c.header('x-plugin', 'on'); await next() },
      startup: (a) => { events.push(`startup:${a === app}`) },
      shutdown: () => { events.push('shutdown') },
    }
    app.use(plugin)
    app.use('/admin', { middleware: (c) => c.text('admin only', 403) })
    app.get('/', () => 'home')
    app.get('/admin/x', () => 'secret')
    assert.equal(app.plugin('probe'), plugin)
    assert.equal(app.plugin('nope'), undefined)
    const s = await serve(t, app)
    assert.deepEqual(events, ['startup:true'])
    let res = await fetch(`${s.url}/`)
    assert.equal(res.headers.get('x-plugin'), 'on')
    assert.equal(await res.text(), 'home')
    res = await fetch(`${s.url}/%61dmin/x`)
    assert.equal(res.status, 403)
    assert.equal(await res.text(), 'admin only')
    await s.close()
    assert.deepEqual(events, ['startup:true', 'shutdown'])
  })

  it('refuses what is neither a function nor a plugin', () => {
    const app = new Carafe()
    assert.throws(() => app.use(42 as never), /middleware function or a plugin object/)
    assert.throws(() => app.get('/x', 'nope' as never, () => 'x'), /must be a middleware function/)
  })
})

describe('c.safeNext', () => {
  const cases: Array<[string, string]> = [
    ['/profile', '/profile'],
    ['/search?q=a%20b', '/search?q=a%20b'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['\\\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/\t/evil.example', '/'],
    ['/a\\b', '/'],
    ['profile', '/'],
    ['', '/'],
  ]
  for (const [next, want] of cases) {
    it(`next=${JSON.stringify(next)} → ${want}`, async (t) => {
      const app = new Carafe()
      app.get('/login', (c) => c.redirect(c.safeNext('/')))
      const s = await serve(t, app)
      const res = await fetch(`${s.url}/login?next=${encodeURIComponent(next)}`, { redirect: 'manual' })
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), want)
    })
  }
})

describe('battery slots without their battery', () => {
  it('c.session, c.user, c.csrfToken name the middleware they need', async () => {
    const app = new Carafe()
    app.get('/s', (c) => c.session.get('x') ?? 'none')
    app.get('/u', (c) => String(c.user))
    app.get('/t', (c) => c.csrfToken())
    const errors: string[] = []
    app.onError((e) => { errors.push((e as Error).message); return 'err' })
    await app.request('/s')
    await app.request('/u')
    await app.request('/t')
    assert.match(errors[0]!, /app\.use\(session\(\)\)/)
    assert.match(errors[1]!, /auth\(\{ loadUser \}\)/)
    assert.match(errors[2]!, /app\.use\(csrf\(\)\)/)
  })
})
