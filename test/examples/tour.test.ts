import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, spawnCli, waitForServer } from '../helpers/spawn.js'
import { Jar } from '../helpers/jar.js'

// The app docs/tour.md builds, step by step: each step's feature is checked here.
describe('examples/tour', () => {
  it('serves pages, static files, validated forms with CSRF tokens, sign-up, login and logout with flash messages, posts in SQLite and JSON', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-tour-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const p = spawnCli(t, ['run', 'examples/tour/app.ts', '--port', '0', '--host', '127.0.0.1'], { TOUR_DATA_DIR: dir })
    const url = await waitForServer(p)
    // Step 8: the migration made the SQLite file at startup.
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.db')).sort(), ['sessions.db', 'tour.db'])

    const jar = new Jar()
    let token = ''
    const go = async (p: string, init: RequestInit = {}): Promise<{ res: Response; body: string }> => {
      const headers = new Headers(init.headers)
      if (jar.cookies.size > 0) headers.set('cookie', jar.header())
      const res = await fetch(url + p, { redirect: 'manual', ...init, headers })
      jar.take(res)
      const body = await res.text()
      const m = /name="_csrf" value="([^"]+)"/.exec(body)
      if (m !== null) token = m[1]!
      return { res, body }
    }
    const post = (p: string, fields: Record<string, string>) => go(p, { method: 'POST', body: new URLSearchParams({ _csrf: token, ...fields }) })

    // Steps 1–4: a page from templates extending base.html, typed params, autoescaping, static files.
    let { res, body } = await go('/')
    assert.equal(res.status, 200)
    assert.match(body, /<title>Tour · Carafe tour<\/title>/)
    assert.match(body, /No posts yet\./)
    assert.match(body, /href="\/static\/style\.css"/)
    ;({ res, body } = await go('/hello/' + encodeURIComponent('세상<b>')))
    assert.match(body, /<h1>Hello, 세상&lt;b&gt;!<\/h1>/)
    ;({ res } = await go('/posts/abc'))
    assert.equal(res.status, 404)
    ;({ res, body } = await go('/static/style.css'))
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/css/)
    assert.ok(res.headers.get('etag'))

    // Steps 5 and 7: sign-up, validated with zod; CSRF refuses a form without its token.
    ;({ res } = await go('/signup'))
    assert.notEqual(token, '')
    ;({ res, body } = await post('/signup', { email: 'nope', name: '', password: 'short' }))
    assert.equal(res.status, 400)
    assert.match(body, /Enter an email address\./)
    assert.match(body, /Enter your name\./)
    assert.match(body, /Use at least 8 characters\./)
    assert.match(body, /value="nope"/)
    ;({ res } = await go('/signup', { method: 'POST', body: new URLSearchParams({ email: 'kim@example.com', name: 'Kim', password: 'secret123' }) }))
    assert.equal(res.status, 403)
    ;({ res } = await post('/signup', { email: 'Kim@Example.com', name: 'Kim', password: 'secret123' }))
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/')
    // Step 6: the flash shows once.
    ;({ body } = await go('/'))
    assert.match(body, /Welcome, Kim!/)
    assert.match(body, /Sign out Kim/)
    ;({ body } = await go('/'))
    assert.doesNotMatch(body, /Welcome, Kim!/)

    // Step 7: a post behind requireLogin(), validated, stored, shown escaped.
    ;({ res } = await go('/posts/new'))
    ;({ res, body } = await post('/posts/new', { title: ' ', body: '' }))
    assert.equal(res.status, 400)
    assert.match(body, /Give the post a title\./)
    ;({ res } = await post('/posts/new', { title: 'Hello <world>', body: 'first' }))
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/posts/1')
    ;({ res, body } = await go('/posts/1'))
    assert.match(body, /<h1>Hello &lt;world&gt;<\/h1>/)
    assert.match(body, /Post published\./)

    // Logout, then the guard sends a browser to the login page, and login brings it back.
    ;({ res } = await post('/logout', {}))
    assert.equal(res.status, 303)
    ;({ res } = await go('/posts/new', { headers: { accept: 'text/html' } }))
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), '/login?next=%2Fposts%2Fnew')
    ;({ res } = await go('/login?next=%2Fposts%2Fnew'))
    ;({ res, body } = await post('/login', { email: 'kim@example.com', password: 'wrong', next: '/posts/new' }))
    assert.equal(res.status, 401)
    assert.match(body, /Wrong email or password\./)
    ;({ res } = await post('/login', { email: 'kim@example.com', password: 'secret123', next: '/posts/new' }))
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/posts/new')

    // Step 9: JSON, and a missing row is a 404.
    ;({ res, body } = await go('/api/posts'))
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual((JSON.parse(body) as Array<{ id: number; title: string }>).map((x) => [x.id, x.title]), [[1, 'Hello <world>']])
    ;({ res, body } = await go('/api/posts/1'))
    assert.equal((JSON.parse(body) as { body: string }).body, 'first')
    ;({ res } = await go('/api/posts/2', { headers: { accept: 'application/json' } }))
    assert.equal(res.status, 404)
    // c.valid(): a JSON body, from the same origin (as a browser's fetch() says), or a 400 listing the issues.
    const json = (value: unknown) => ({ method: 'POST', body: JSON.stringify(value), headers: { 'content-type': 'application/json', accept: 'application/json', 'sec-fetch-site': 'same-origin' } })
    ;({ res, body } = await go('/api/posts', json({ title: 'Second', body: 'by JSON' })))
    assert.equal(res.status, 201)
    assert.equal((JSON.parse(body) as { id: number }).id, 2)
    ;({ res, body } = await go('/api/posts', json({ title: '' })))
    assert.equal(res.status, 400)
    assert.deepEqual((JSON.parse(body) as { issues: unknown }).issues, [{ path: 'title', message: 'Give the post a title.' }])
    ;({ res } = await go('/api/posts', { ...json({ title: 'Forged' }), headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' } }))
    assert.equal(res.status, 403)
  })

  it('runs in process with carafe/testing, as the tour\'s testing step shows', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-tour-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    process.env.TOUR_DATA_DIR = dir
    process.env.TOUR_ROOT = path.join(ROOT, 'examples/tour')
    process.env.CARAFE_SECRET ??= 'a test secret of at least 32 bytes, not for production'
    const { testClient } = await import('carafe/testing')
    const { app } = await import('../../examples/tour/app.js')
    await app.startup()
    t.after(() => app.shutdown())

    const client = testClient(app)
    assert.match(await (await client.get('/')).text(), /No posts yet\./)
    const page = await (await client.get('/signup')).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!
    const res = await client.post('/signup', { form: { _csrf: csrf, email: 'lee@example.com', name: 'Lee', password: 'secret123' } })
    assert.equal(res.status, 303, await res.text())
    assert.match(await (await client.get('/')).text(), /Welcome, Lee!/)
    assert.deepEqual(await (await client.get('/api/posts')).json(), [])
  })
})
