import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, type CurrentUser, type Plugin } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { testClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'

/** An app that sets whatever cookie lines `?c=` asks for, and echoes the Cookie header it got. */
function cookieApp(): Carafe {
  const app = new Carafe()
  app.get('/set', (c) => {
    for (const line of c.queries('c')) c.header('set-cookie', line, { append: true })
    return 'set'
  })
  app.all('/echo', (c) => ({ cookie: c.req.header('cookie') ?? null }))
  app.all('/a/echo', (c) => ({ cookie: c.req.header('cookie') ?? null }))
  app.get('/go', (c) => { c.setCookie('hop', '1'); return c.redirect('/echo') })
  return app
}

async function echoed(res: Response | Promise<Response>): Promise<string | null> {
  return ((await (await res).json()) as { cookie: string | null }).cookie
}

/** Stands in for `auth()` until it lands: what loginAs() needs of it. */
function fakeAuth(): Plugin & { sessionDataFor(user: CurrentUser): Record<string, unknown> } {
  return { name: 'auth', sessionDataFor: (user) => ({ $uid: (user as { id: number }).id }) }
}

function loginApp(): Carafe {
  const app = new Carafe()
  app.use(session())
  app.use(fakeAuth())
  app.get('/me', (c) => ({ uid: c.session.get('$uid') ?? null, https: c.req.protocol === 'https' }))
  return app
}

describe('testClient cookie jar', () => {
  it('keeps the cookies responses set, sends them back, and deletes one on Max-Age=0', async () => {
    const client = testClient(cookieApp())
    assert.equal(await echoed(client.get('/echo')), null)
    await client.get('/set', { query: { c: ['a=1; Path=/', 'b=2; Path=/; HttpOnly'] } })
    assert.equal(await echoed(client.get('/echo')), 'a=1; b=2')
    assert.deepEqual(client.cookies, { a: '1', b: '2' })
    assert.equal(client.cookie('b'), '2')
    await client.get('/set', { query: { c: 'a=; Path=/; Max-Age=0' } })
    assert.equal(await echoed(client.post('/echo')), 'b=2')
    assert.equal(client.cookie('a'), undefined)
  })

  it('scopes cookies by path, and a Cookie header given by the test replaces the jar', async () => {
    const client = testClient(cookieApp())
    await client.get('/set', { query: { c: ['deep=1; Path=/a', 'top=2; Path=/'] } })
    assert.equal(await echoed(client.get('/a/echo')), 'deep=1; top=2')
    assert.equal(await echoed(client.get('/echo')), 'top=2')
    assert.equal(client.cookie('deep'), undefined)
    assert.equal(client.cookie('deep', '/a/echo'), '1')
    assert.equal(await echoed(client.get('/echo', { headers: { cookie: 'mine=x' } })), 'mine=x')
  })

  it('keeps Secure cookies only over https, and enforces the __Host- prefix rules', async () => {
    const plain = testClient(cookieApp())
    await plain.get('/set', { query: { c: ['s=1; Secure; Path=/', '__Host-h=1; Secure; Path=/', 'p=1; Path=/'] } })
    assert.equal(await echoed(plain.get('/echo')), 'p=1')

    const tls = testClient(cookieApp(), 'https://localhost')
    await tls.get('/set', {
      query: {
        c: [
          's=1; Secure; Path=/',
          '__Host-ok=1; Secure; Path=/',
          '__Host-nosecure=1; Path=/',
          '__Host-domain=1; Secure; Path=/; Domain=localhost',
          '__Host-path=1; Secure; Path=/a',
          '__Secure-nosecure=1; Path=/',
        ],
      },
    })
    assert.deepEqual(tls.cookies, { s: '1', '__Host-ok': '1' })
    assert.equal(await echoed(tls.get('/echo')), 's=1; __Host-ok=1')
  })

  it('sends nothing and keeps nothing with { cookies: false }', async () => {
    const client = testClient(cookieApp(), { cookies: false })
    await client.get('/set', { query: { c: 'a=1; Path=/' } })
    assert.equal(await echoed(client.get('/echo')), null)
    assert.deepEqual(client.cookies, {})
    assert.equal(client.cookie('a'), undefined)
  })

  it('does not follow redirects, and keeps the cookie a redirect sets', async () => {
    const client = testClient(cookieApp())
    const res = await client.get('/go')
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), '/echo')
    assert.equal(await echoed(client.get(res.headers.get('location')!)), 'hop=1')
  })

  it('works over real HTTP through the fetch option, redirects still manual', async (t) => {
    const s = await serve(t, cookieApp())
    const client = testClient(cookieApp(), { origin: s.url, fetch: (r) => fetch(r) })
    const res = await client.get('/go')
    assert.equal(res.status, 302)
    assert.equal(client.cookie('hop'), '1')
    assert.equal(await echoed(client.get('/echo')), 'hop=1')
    client.logout()
    assert.equal(await echoed(client.get('/echo')), null)
  })
})

describe('testClient.loginAs', () => {
  it('logs in through session() and auth() without a form, over http and https', async () => {
    const http = testClient(loginApp())
    assert.deepEqual(await (await http.get('/me')).json(), { uid: null, https: false })
    await http.loginAs({ id: 7 } as CurrentUser)
    assert.match(http.cookie('sid') ?? '', /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(await (await http.get('/me')).json(), { uid: 7, https: false })

    const tls = testClient(loginApp(), 'https://localhost')
    await tls.loginAs({ id: 8 } as CurrentUser)
    assert.deepEqual(Object.keys(tls.cookies), ['__Host-sid'])
    assert.deepEqual(await (await tls.get('/me')).json(), { uid: 8, https: true })
  })

  it('logs in over real HTTP, and logout() forgets the session cookie', async (t) => {
    const app = loginApp()
    const s = await serve(t, app)
    const client = testClient(app, { origin: s.url, fetch: (r) => fetch(r) })
    await client.loginAs({ id: 42 } as CurrentUser)
    const res = await client.get('/me')
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { uid: 42, https: false })
    client.logout()
    assert.deepEqual(await (await client.get('/me')).json(), { uid: null, https: false })
  })

  it('says what is missing: session(), auth(), an app, the jar', async () => {
    const noSession = new Carafe()
    noSession.use(fakeAuth())
    await assert.rejects(testClient(noSession).loginAs({}), { code: 'ERR_NO_SESSION', message: /app\.use\(session\(\)\)/ })
    const noAuth = new Carafe()
    noAuth.use(session())
    await assert.rejects(testClient(noAuth).loginAs({}), { code: 'ERR_NO_AUTH', message: /app\.use\(auth\(/ })
    await assert.rejects(testClient({ fetch: () => new Response('hi') }).loginAs({}), { code: 'ERR_NOT_AN_APP' })
    await assert.rejects(testClient(loginApp(), { cookies: false }).loginAs({}), { code: 'ERR_NO_COOKIE_JAR' })
  })
})
