import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { Carafe, HttpError } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

for (const [door, open] of Object.entries(DOORS)) {
  describe(`app through the ${door} door`, () => {
    it('turns return values into responses: string, object, array, bytes, null, Response', async (t) => {
      const app = new Carafe()
      app.get('/s', () => '<b>hi</b>')
      app.get('/o', () => ({ a: 1 }))
      app.get('/a', () => [1, 2])
      app.get('/b', () => new Uint8Array([1, 2, 3]))
      app.get('/n', (c) => c.status(201) && null)
      app.get('/r', () => new Response('raw', { status: 202, headers: { 'x-r': '1' } }))
      const fetch = await open(app, t)
      let res = await fetch('/s')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(res.headers.get('content-length'), '9')
      assert.equal(await res.text(), '<b>hi</b>')
      res = await fetch('/o')
      assert.equal(res.headers.get('content-type'), 'application/json')
      assert.deepEqual(await res.json(), { a: 1 })
      assert.deepEqual(await (await fetch('/a')).json(), [1, 2])
      res = await fetch('/b')
      assert.equal(res.headers.get('content-type'), 'application/octet-stream')
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array([1, 2, 3]))
      res = await fetch('/n')
      assert.equal(res.status, 201)
      assert.equal(await res.text(), '')
      res = await fetch('/r')
      assert.equal(res.status, 202)
      assert.equal(res.headers.get('x-r'), '1')
      assert.equal(await res.text(), 'raw')
    })

    it('asks an object literal with respond(c) to respond, rather than sending it as JSON', async (t) => {
      const app = new Carafe()
      app.get('/r', () => ({ respond: (c: import('../../src/index.js').Context) => { c.text('responded', 202) } }))
      const fetch = await open(app, t)
      const res = await fetch('/r')
      assert.equal(res.status, 202)
      assert.equal(await res.text(), 'responded')
    })

    it('streams ReadableStreams, Node streams and async generators', async (t) => {
      const app = new Carafe()
      app.get('/web', () => new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode('a')); ctl.enqueue(new TextEncoder().encode('b')); ctl.close() } }))
      app.get('/node', (c) => { c.header('content-type', 'text/plain'); return Readable.from([Buffer.from('x'), Buffer.from('y')]) })
      app.get('/gen', async function* () { yield 'one '; yield 'two' })
      const fetch = await open(app, t)
      assert.equal(await (await fetch('/web')).text(), 'ab')
      const node = await fetch('/node')
      assert.equal(node.headers.get('content-type'), 'text/plain')
      assert.equal(await node.text(), 'xy')
      const gen = await fetch('/gen')
      assert.equal(gen.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(await gen.text(), 'one two')
    })

    it('offers status, header, json, text, html and redirect helpers', async (t) => {
      const app = new Carafe()
      app.get('/j', (c) => c.json({ ok: true }, 201))
      app.get('/t', (c) => c.header('x-a', 'b').text('plain'))
      app.get('/h', (c) => c.html('<p>x</p>', 203))
      app.get('/go', (c) => c.redirect(`/target?x=${c.query('x') ?? ''}`))
      const fetch = await open(app, t)
      let res = await fetch('/j')
      assert.equal(res.status, 201)
      assert.deepEqual(await res.json(), { ok: true })
      res = await fetch('/t')
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(res.headers.get('x-a'), 'b')
      assert.equal((await fetch('/h')).status, 203)
      res = await fetch('/go?x=%0D%0ASet-Cookie:%20a=b')
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('set-cookie'), null)
      assert.equal(res.headers.get('location'), '/target?x=%0D%0ASet-Cookie:%20a=b')
    })

    it('refuses header values with CR/LF (no response splitting)', async (t) => {
      const app = new Carafe()
      app.get('/h', (c) => c.header('x-evil', `a\r\nset-cookie: x=1`).text('no'))
      app.onError((e, c) => c.text(String((e as Error).message), 500))
      const fetch = await open(app, t)
      const res = await fetch('/h')
      assert.equal(res.status, 500)
      assert.equal(res.headers.get('set-cookie'), null)
      assert.equal(res.headers.get('x-evil'), null)
    })

    it('reads query values, repeated keys, headers and cookies', async (t) => {
      const app = new Carafe()
      app.get('/q', (c) => ({
        thing: c.query('thing'), tags: c.queries('tag'), missing: c.query('nope') ?? null,
        ua: c.req.header('X-Test'), sid: c.cookie('sid'), all: c.req.queryObject(),
      }))
      const fetch = await open(app, t)
      const res = await fetch('/q?thing=%EB%82%98+%EB%B0%A9&tag=a&tag=b&__proto__=x', { headers: { 'x-test': 'yes', cookie: 'a=1; sid=abc%20d' } })
      const body = await res.json() as Record<string, unknown>
      assert.deepEqual({ ...body, all: { ...(body.all as object) } }, {
        thing: '나 방', tags: ['a', 'b'], missing: null, ua: 'yes', sid: 'abc d', all: { thing: '나 방', tag: 'a', ['__proto__']: 'x' },
      })
      assert.equal(({} as Record<string, unknown>).x, undefined)
      assert.equal((await fetch('/q?x=%E0%A4%A')).status, 400)
    })

    it('reads bodies once and caches them: json, text, bytes, arrayBuffer', async (t) => {
      const app = new Carafe()
      app.post('/echo', async (c) => {
        const a = await c.req.json()
        const b = await c.req.text()
        const n = (await c.req.bytes()).byteLength
        return { a, b, n }
      })
      const fetch = await open(app, t)
      const res = await fetch('/echo', { method: 'POST', body: '{"x":[1,2]}', headers: { 'content-type': 'application/json' } })
      assert.deepEqual(await res.json(), { a: { x: [1, 2] }, b: '{"x":[1,2]}', n: 11 })
    })

    it('answers bad JSON and empty JSON bodies with 400 and a helpful message', async (t) => {
      const app = new Carafe()
      app.post('/echo', async (c) => c.req.json())
      const fetch = await open(app, t)
      let res = await fetch('/echo', { method: 'POST', body: '{bad', headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /malformed JSON/)
      res = await fetch('/echo', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /body is empty/)
      for (const body of ['{"__proto__":{"polluted":1},"ok":1}', '{"\\u005f_proto__":{"polluted":1}}', '{"a":[{"constructor":{"prototype":{"polluted":1}}}]}']) {
        res = await fetch('/echo', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
        assert.equal(res.status, 400, body)
        assert.match((await res.json() as { message: string }).message, /"__proto__" or "constructor.prototype" key, which is not allowed/)
      }
      res = await fetch('/echo', { method: 'POST', body: '{"prototype":"fine","constructor":"also fine","text":"\\u00e9"}' })
      assert.deepEqual(await res.json(), { prototype: 'fine', constructor: 'also fine', text: 'é' })
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })

    it('refuses a body over the limit with 413, per app and per route', async (t) => {
      const app = new Carafe({ bodyLimit: 10 })
      app.post('/small', async (c) => (await c.req.text()).length)
      app.post('/big', async (c) => (await c.req.text()).length, { bodyLimit: 100 })
      const fetch = await open(app, t)
      const res = await fetch('/small', { method: 'POST', body: 'x'.repeat(11) })
      assert.equal(res.status, 413)
      assert.match(await res.text(), /larger than the limit of 10 bytes/)
      assert.equal(await (await fetch('/big', { method: 'POST', body: 'x'.repeat(50) })).text(), '50')
      assert.equal(await (await fetch('/small', { method: 'POST', body: 'x'.repeat(5) })).text(), '5')
    })

    it('answers HEAD from GET routes with headers and no body', async (t) => {
      const app = new Carafe()
      app.get('/page', () => 'hello')
      const fetch = await open(app, t)
      const res = await fetch('/page', { method: 'HEAD' })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-length'), '5')
      assert.equal(await res.text(), '')
    })

    it('gives HttpError and c.abort() their status, and hides other errors behind a plain 500', async (t) => {
      const app = new Carafe()
      app.get('/forbidden', () => { throw new HttpError(403, 'admins only') })
      app.get('/abort', (c) => c.abort(404, 'no such user'))
      app.get('/crash', () => { throw new Error('secret detail at /etc/app/config.ts') })
      app.get('/async-crash', async () => { await null; throw new Error('async secret') })
      const fetch = await open(app, t)
      let res = await fetch('/forbidden')
      assert.equal(res.status, 403)
      assert.match(await res.text(), /admins only/)
      res = await fetch('/abort')
      assert.equal(res.status, 404)
      assert.match(await res.text(), /no such user/)
      const errors: unknown[] = []
      const original = console.error
      console.error = (...args: unknown[]) => { errors.push(args) }
      try {
        for (const path of ['/crash', '/async-crash']) {
          res = await fetch(path, { headers: { accept: 'text/html' } })
          assert.equal(res.status, 500)
          const text = await res.text()
          assert.doesNotMatch(text, /secret|\/etc\/|at .*\.ts/)
          assert.match(text, /500 Internal Server Error/)
        }
      } finally {
        console.error = original
      }
      assert.equal(errors.length, 2)
    })

    it('runs onion middleware in order, per prefix too, and before/after sugar', async (t) => {
      const app = new Carafe()
      const seen: string[] = []
      app.use(async (c, next) => { seen.push('a-in'); await next(); seen.push('a-out'); c.header('x-mw', 'a') })
      app.use('/admin', async (c, next) => { if (c.req.header('x-admin') !== '1') return c.text('no', 401); await next() })
      app.before((c) => { seen.push(`before ${c.path}`) })
      app.after((c) => { c.header('x-after', String(c.statusCode)) })
      app.get('/x', () => { seen.push('handler'); return 'x' })
      app.get('/admin/panel', () => 'panel')
      app.get('/administrator', () => 'not under /admin')
      const fetch = await open(app, t)
      const res = await fetch('/x')
      assert.equal(await res.text(), 'x')
      assert.equal(res.headers.get('x-mw'), 'a')
      assert.equal(res.headers.get('x-after'), '200')
      assert.deepEqual(seen, ['a-in', 'before /x', 'handler', 'a-out'])
      assert.equal((await fetch('/admin/panel')).status, 401)
      assert.equal((await fetch('/admin/panel', { headers: { 'x-admin': '1' } })).status, 200)
      assert.equal((await fetch('/administrator')).status, 200)
      // middleware also wraps 404s
      const missing = await fetch('/missing')
      assert.equal(missing.status, 404)
      assert.equal(missing.headers.get('x-mw'), 'a')
    })

    it('lets middleware see error responses on the way out, and onError/notFound replace them', async (t) => {
      const app = new Carafe()
      app.use(async (c, next) => { await next(); c.header('x-status', String(c.statusCode)) })
      app.get('/boom', () => { throw new Error('x') })
      app.onError((err, c) => c.json({ caught: (err as Error).message }, 418))
      app.notFound((c) => c.text(`custom 404 for ${c.path}`, 404))
      const fetch = await open(app, t)
      const res = await fetch('/boom')
      assert.equal(res.status, 418)
      assert.equal(res.headers.get('x-status'), '418')
      assert.deepEqual(await res.json(), { caught: 'x' })
      const nf = await fetch('/nope')
      assert.equal(nf.status, 404)
      assert.equal(await nf.text(), 'custom 404 for /nope')
    })

    it('refuses next() called twice', async (t) => {
      const app = new Carafe()
      app.use(async (_c, next) => { await next(); await next() })
      let calls = 0
      app.get('/x', () => { calls++; return 'x' })
      const fetch = await open(app, t)
      const original = console.error
      console.error = () => {}
      try {
        assert.equal((await fetch('/x')).status, 500)
      } finally {
        console.error = original
      }
      assert.equal(calls, 1)
    })

    it('mounts another Carafe app and any Fetch handler under a prefix', async (t) => {
      const admin = new Carafe()
      admin.get('/', () => 'admin home')
      admin.get('/users/<int:id>', (c) => `admin user ${c.params.id} at ${c.path}`, { name: 'admin_user' })
      const app = new Carafe()
      app.mount('/admin', admin)
      app.mount('/api', (req: Request) => Response.json({ path: new URL(req.url).pathname, method: req.method }))
      const fetch = await open(app, t)
      assert.equal(await (await fetch('/admin/users/5')).text(), 'admin user 5 at /users/5')
      assert.equal(await (await fetch('/admin/')).text(), 'admin home')
      assert.deepEqual(await (await fetch('/api/v1/x', { method: 'POST', body: 'b' })).json(), { path: '/v1/x', method: 'POST' })
      assert.equal(app.url('admin_user', { id: 5 }), '/admin/users/5')
    })

    it('builds a WHATWG Request only when a handler asks for c.req.raw', async (t) => {
      const app = new Carafe()
      app.post('/raw', async (c) => {
        const req = c.req.raw
        return { method: req.method, url: new URL(req.url).pathname, body: await req.json(), h: req.headers.get('x-a') }
      })
      const fetch = await open(app, t)
      const res = await fetch('/raw?q=1', { method: 'POST', body: '{"n":1}', headers: { 'x-a': 'b' } })
      assert.deepEqual(await res.json(), { method: 'POST', url: '/raw', body: { n: 1 }, h: 'b' })
    })

    it('uses a custom template engine through the engine interface', async (t) => {
      const app = new Carafe({ templates: { render: (name, data) => `${name}:${JSON.stringify(data.x)}` } })
      app.get('/', (c) => c.render('page', { x: [1] }))
      const fetch = await open(app, t)
      assert.equal(await (await fetch('/')).text(), 'page:[1]')
    })

    it('renders templates with autoescaping', async (t) => {
      const { mkdtemp, writeFile, mkdir } = await import('node:fs/promises')
      const { tmpdir } = await import('node:os')
      const path = await import('node:path')
      const root = await mkdtemp(path.join(tmpdir(), 'carafe-tpl-'))
      t.after(() => import('node:fs/promises').then((fs) => fs.rm(root, { recursive: true, force: true })))
      await mkdir(path.join(root, 'templates'))
      await writeFile(path.join(root, 'templates', 'base.html'), '<title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}\n')
      await writeFile(path.join(root, 'templates', 'page.html'), '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}{% block body %}{% for x in items %}<li>{{ x | upper }}</li>{% endfor %}{% include "part.html" %}{% endblock %}')
      await writeFile(path.join(root, 'templates', 'part.html'), '<a href="{{ url("page") }}">{{ request.path }}</a>')
      const app = new Carafe({ root })
      app.get('/page', function page(c) { return c.render('page.html', { title: '<script>', items: ['a', 'b'] }) })
      app.get('/missing', (c) => c.render('nope.html'))
      const fetch = await open(app, t)
      const res = await fetch('/page')
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(await res.text(), '<title>&lt;script&gt;</title><li>A</li><li>B</li><a href="/page">/page</a>')
      const original = console.error
      let logged = ''
      console.error = (...a: unknown[]) => { logged += a.map(String).join(' ') }
      try {
        assert.equal((await fetch('/missing')).status, 500)
      } finally {
        console.error = original
      }
      assert.match(logged, /template "nope.html" was not found/)
    })
  })
}
