import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, CarafeError, HttpError, cors, type CorsOptions } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

const APP = 'https://app.example'
const EVIL = 'https://evil.example'

function appWith(options?: CorsOptions, prefix?: string): { app: Carafe; hits: { n: number } } {
  const app = new Carafe()
  const hits = { n: 0 }
  if (prefix === undefined) app.use(cors(options))
  else app.use(prefix, cors(options))
  app.get('/data', () => { hits.n++; return { ok: true } })
  app.get('/api/data', () => { hits.n++; return { ok: true } })
  app.options('/data', () => { hits.n++; return 'route' })
  app.get('/vary', (c) => { hits.n++; c.header('vary', 'Cookie'); return 'v' })
  app.get('/response', () => { hits.n++; return new Response('r', { headers: { vary: 'Accept-Language' } }) })
  app.get('/boom', () => { throw new HttpError(409, 'conflict here') })
  return { app, hits }
}

function preflight(origin: string, extra: Record<string, string> = {}): RequestInit {
  return { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT', ...extra } }
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`cors through the ${door} door`, () => {
    it('allows every origin with * by default, without Vary: Origin', async (t) => {
      const { app } = appWith()
      const fetch = await open(app, t)
      const res = await fetch('/data', { headers: { origin: EVIL } })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('access-control-allow-origin'), '*')
      assert.equal(res.headers.get('access-control-allow-credentials'), null)
      assert.equal(res.headers.get('vary'), null)
      assert.deepEqual(await res.json(), { ok: true })
    })

    it('answers a preflight with 204 itself, for known and unknown paths, without running the route', async (t) => {
      const { app, hits } = appWith()
      const fetch = await open(app, t)
      for (const path of ['/data', '/nowhere/at/all']) {
        const res = await fetch(path, preflight(APP, { 'access-control-request-headers': 'content-type, x-token' }))
        assert.equal(res.status, 204)
        assert.equal(res.headers.get('access-control-allow-origin'), '*')
        assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, PUT, PATCH, POST, DELETE')
        assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, x-token')
        assert.equal(res.headers.get('access-control-max-age'), null)
        assert.match(res.headers.get('vary') ?? '', /Access-Control-Request-Headers/)
        assert.equal(await res.text(), '')
      }
      assert.equal(hits.n, 0)
      // A plain OPTIONS (no Access-Control-Request-Method) is not a preflight: the route answers it.
      const plain = await fetch('/data', { method: 'OPTIONS', headers: { origin: APP } })
      assert.equal(await plain.text(), 'route')
      assert.equal(hits.n, 1)
    })

    it('reflects an allowed origin from a list, with Vary: Origin on every answer', async (t) => {
      const { app } = appWith({ origin: [APP, 'http://localhost:5173/'], exposeHeaders: ['X-Total'] })
      const fetch = await open(app, t)
      let res = await fetch('/data', { headers: { origin: APP } })
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.headers.get('access-control-expose-headers'), 'X-Total')
      assert.equal(res.headers.get('vary'), 'Origin')
      res = await fetch('/data', { headers: { origin: 'http://localhost:5173' } })
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:5173')
      // No Origin: no CORS headers, but the answer still varies on Origin for caches.
      res = await fetch('/data')
      assert.equal(res.headers.get('access-control-allow-origin'), null)
      assert.equal(res.headers.get('vary'), 'Origin')
    })

    it('serves a disallowed origin without any Access-Control-Allow-* header', async (t) => {
      const { app, hits } = appWith({ origin: APP, credentials: true })
      const fetch = await open(app, t)
      const res = await fetch('/data', { headers: { origin: EVIL } })
      assert.equal(res.status, 200)
      assert.deepEqual([...res.headers.keys()].filter((k) => k.startsWith('access-control-')), [])
      assert.equal(res.headers.get('vary'), 'Origin')
      assert.equal(hits.n, 1)
    })

    it('refuses a preflight from a disallowed or malformed origin with 403 and keeps serving', async (t) => {
      const { app, hits } = appWith({ origin: [APP] })
      const fetch = await open(app, t)
      for (const origin of [EVIL, 'not an origin', 'https://app.example/path', 'null']) {
        const res = await fetch('/data', preflight(origin))
        assert.equal(res.status, 403)
        assert.equal(res.headers.get('access-control-allow-origin'), null)
        assert.equal(res.headers.get('access-control-allow-methods'), null)
        assert.equal(res.headers.get('vary'), 'Origin')
        assert.match(await res.text(), /CORS preflight refused: the origin ".*" may not call this server/)
      }
      const html = await fetch('/data', preflight(EVIL, { accept: 'text/html' }))
      assert.equal(html.status, 403)
      assert.match(await html.text(), /CORS preflight refused: the origin &quot;https:\/\/evil\.example&quot;/)
      assert.equal(hits.n, 0)
      const ok = await fetch('/data', preflight(APP))
      assert.equal(ok.status, 204)
      assert.equal(ok.headers.get('access-control-allow-origin'), APP)
      assert.deepEqual(await (await fetch('/data', { headers: { origin: APP } })).json(), { ok: true })
    })

    it("reflects the origin for '*' with credentials (never *), but not the opaque null origin", async (t) => {
      const { app } = appWith({ origin: '*', credentials: true })
      const fetch = await open(app, t)
      let res = await fetch('/data', { headers: { origin: EVIL } })
      assert.equal(res.headers.get('access-control-allow-origin'), EVIL)
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
      assert.equal(res.headers.get('vary'), 'Origin')
      res = await fetch('/data', { headers: { origin: 'null' } })
      assert.equal(res.headers.get('access-control-allow-origin'), null)
      assert.equal(res.headers.get('access-control-allow-credentials'), null)
      res = await fetch('/data', preflight('null'))
      assert.equal(res.status, 403)
      res = await fetch('/data', preflight(APP))
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
    })

    it('matches origins with a RegExp (global flag included) and an async function', async (t) => {
      const re = cors({ origin: /^https:\/\/[a-z]+\.app\.example$/g })
      const fn = cors({ origin: async (o, c) => o === APP && c.req.header('x-let-in') === 'yes' })
      const app = new Carafe()
      app.use('/re', re)
      app.use('/fn', fn)
      app.get('/re', () => 're')
      app.get('/fn', () => 'fn')
      const fetch = await open(app, t)
      for (let i = 0; i < 3; i++) {
        const res = await fetch('/re', { headers: { origin: 'https://one.app.example' } })
        assert.equal(res.headers.get('access-control-allow-origin'), 'https://one.app.example')
      }
      assert.equal((await fetch('/re', { headers: { origin: 'https://one.app.example.evil.test' } })).headers.get('access-control-allow-origin'), null)
      assert.equal((await fetch('/re', { headers: { origin: 'null' } })).headers.get('access-control-allow-origin'), null)
      assert.equal((await fetch('/fn', { headers: { origin: APP, 'x-let-in': 'yes' } })).headers.get('access-control-allow-origin'), APP)
      assert.equal((await fetch('/fn', { headers: { origin: APP } })).headers.get('access-control-allow-origin'), null)
    })

    it('uses the configured headers, methods and max age in a preflight', async (t) => {
      const { app } = appWith({ origin: APP, allowMethods: ['GET', 'POST'], allowHeaders: ['Content-Type', 'Authorization'], maxAge: 600, credentials: true })
      const fetch = await open(app, t)
      const res = await fetch('/data', preflight(APP, { 'access-control-request-headers': 'x-other' }))
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST')
      assert.equal(res.headers.get('access-control-allow-headers'), 'Content-Type, Authorization')
      assert.equal(res.headers.get('access-control-max-age'), '600')
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
      assert.equal(res.headers.get('vary'), 'Origin')
    })

    it('does not reflect malformed requested headers in a preflight', async (t) => {
      const { app } = appWith()
      const fetch = await open(app, t)
      const res = await fetch('/data', preflight(APP, { 'access-control-request-headers': 'x-a, (evil)' }))
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('access-control-allow-headers'), null)
    })

    it('appends Origin to an existing Vary, on c or on a Response, instead of replacing it', async (t) => {
      const { app } = appWith({ origin: APP })
      const fetch = await open(app, t)
      let res = await fetch('/vary', { headers: { origin: APP } })
      assert.equal(res.headers.get('vary'), 'Cookie, Origin')
      res = await fetch('/response', { headers: { origin: APP } })
      assert.equal(res.headers.get('vary'), 'Accept-Language, Origin')
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.equal(await res.text(), 'r')
    })

    it('puts CORS headers on error answers from handlers and on 404s', async (t) => {
      const { app } = appWith({ origin: APP })
      const fetch = await open(app, t)
      let res = await fetch('/boom', { headers: { origin: APP } })
      assert.equal(res.status, 409)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.match(await res.text(), /conflict here/)
      res = await fetch('/missing', { headers: { origin: APP } })
      assert.equal(res.status, 404)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
    })

    it('covers only its prefix when mounted with app.use(prefix)', async (t) => {
      const { app, hits } = appWith({ origin: APP }, '/api')
      const fetch = await open(app, t)
      assert.equal((await fetch('/api/data', { headers: { origin: APP } })).headers.get('access-control-allow-origin'), APP)
      assert.equal((await fetch('/data', { headers: { origin: APP } })).headers.get('access-control-allow-origin'), null)
      const pre = await fetch('/api/anything', preflight(APP))
      assert.equal(pre.status, 204)
      // Outside the prefix the router answers OPTIONS itself (404 for an unknown path).
      assert.equal((await fetch('/elsewhere', preflight(APP))).status, 404)
      assert.equal(hits.n, 2)
    })
  })
}

describe('cors options', () => {
  it('refuses credentials without an explicit origin', () => {
    assert.throws(() => cors({ credentials: true }), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_CORS_OPTIONS' && /explicit origin/.test(e.message))
  })

  it('refuses origins that are not origins, * in a list, and bad names or numbers', () => {
    const bad: CorsOptions[] = [
      { origin: 'app.example' },
      { origin: 'https://app.example/path' },
      { origin: ['https://a.example', '*'] },
      { allowMethods: ['GET', 'PO ST'] },
      { allowHeaders: ['x\r\ny'] },
      { exposeHeaders: [''] },
      { maxAge: -1 },
      { maxAge: 1.5 },
      { origin: 42 as unknown as string },
    ]
    for (const o of bad) assert.throws(() => cors(o), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_CORS_OPTIONS', JSON.stringify(o))
  })

  it('returns a named middleware', () => {
    assert.equal(cors().name, 'cors')
  })
})
