// Conduit's JSON API against RealWorld's spec (../../../shared/realworld: openapi.yml and
// backend-*.md), over HTTP on the app as `carafe run` serves it: every endpoint, status code
// and error shape, on SQLite, PostgreSQL and MariaDB (each in a schema or database of its own).
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SignJWT } from 'jose'
import { spawnCli } from '../helpers/spawn.js'
import { needService, ownPgSchema, SERVICES, uniqueName } from '../helpers/services.js'
import { Carafe } from '../../src/index.js'
import { session, sqliteStore } from '../../src/session/index.js'
import { auth } from '../../src/auth/index.js'

const require = createRequire(import.meta.url)
const SECRET = 'conduit-api-tests-secret-0123456789abcdefghijkl'
const JSON_UTF8 = 'application/json; charset=utf-8'
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const LOGIN_LIMIT = 40

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
interface Answer { status: number; json: Json; text: string; headers: Headers }

/** How the test reaches the database the app is on: its DATABASE_URL and a way to read a user's password hash. */
interface Backend {
  env: Record<string, string>
  passwordHash(username: string): Promise<string>
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The spec's error shape: `{ errors: { field: ["message", …] } }`, at least one field. */
function assertErrors(a: Answer, status: number, field?: string, message?: RegExp): void {
  assert.equal(a.status, status, `expected ${status}, got ${a.status}: ${a.text}`)
  assert.ok(isObject(a.json) && isObject(a.json.errors), `not an {errors} body: ${a.text}`)
  const entries = Object.entries(a.json.errors as Record<string, unknown>)
  assert.ok(entries.length > 0, a.text)
  for (const [, v] of entries) assert.ok(Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string'), a.text)
  if (field !== undefined) {
    assert.ok(field in a.json.errors, `no errors.${field} in ${a.text}`)
    if (message !== undefined) assert.ok((a.json.errors[field] as string[]).some((m) => message.test(m)), `errors.${field} does not match ${message}: ${a.text}`)
  }
}

function assertProfile(p: Json, username: string, following: boolean): void {
  assert.deepEqual(Object.keys(p).sort(), ['bio', 'following', 'image', 'username'])
  assert.equal(p.username, username)
  assert.equal(p.following, following)
}

/** An article as the spec has it; lists leave `body` out. */
function assertArticle(a: Json, inList: boolean): void {
  const keys = ['author', 'createdAt', 'description', 'favorited', 'favoritesCount', 'slug', 'tagList', 'title', 'updatedAt']
  assert.deepEqual(Object.keys(a).sort(), inList ? keys : [...keys, 'body'].sort())
  assert.match(a.createdAt, ISO)
  assert.match(a.updatedAt, ISO)
  assert.equal(typeof a.favorited, 'boolean')
  assert.equal(typeof a.favoritesCount, 'number')
  assert.ok(Array.isArray(a.tagList))
  assert.equal(typeof a.author.following, 'boolean')
}

function assertComment(m: Json): void {
  assert.deepEqual(Object.keys(m).sort(), ['author', 'body', 'createdAt', 'id', 'updatedAt'])
  assert.equal(typeof m.id, 'number')
  assert.match(m.createdAt, ISO)
  assert.match(m.updatedAt, ISO)
  assert.equal(typeof m.author.following, 'boolean')
}

/** Run the whole spec against a fresh app whose data folder is `dir` and whose database `backendOf(dir)` says. */
async function conformance(t: TestContext, backendOf: (dir: string) => Backend): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-conduit-api-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const backend = backendOf(dir)
  const p = spawnCli(t, ['run', 'examples/conduit/app.ts', '--port', '0', '--host', '127.0.0.1'], {
    CONDUIT_DATA_DIR: dir, CONDUIT_DEMO: '0', CONDUIT_ADMIN_PASSWORD: 'admin password 1', CONDUIT_LOGIN_LIMIT: String(LOGIN_LIMIT),
    CARAFE_SECRET: SECRET, DATABASE_URL: undefined, REDIS_URL: undefined, ...backend.env,
  })
  // A generous wait: the first start migrates (and the machine may be busy).
  const m = await p.waitFor(/Serving HTTP on (\S+) port (\d+)/, 60_000)
  const base = `http://${m[1]}:${m[2]}`
  const api = `${base}/api`

  /** One API call; every answer with a body must be `application/json; charset=utf-8`, every error `{ errors }`. */
  async function call(method: string, url: string, o: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers }
    if (o.token !== undefined) headers.authorization = `Token ${o.token}`
    let body: string | undefined
    if (o.raw !== undefined) body = o.raw
    else if (o.body !== undefined) body = JSON.stringify(o.body)
    if (body !== undefined) headers['content-type'] ??= 'application/json'
    const res = await fetch(api + url, { method, headers, body, redirect: 'manual' })
    const text = await res.text()
    let json: Json = null
    if (text !== '') {
      assert.equal(res.headers.get('content-type'), JSON_UTF8, `${method} ${url}: ${text}`)
      json = JSON.parse(text)
    }
    const a = { status: res.status, json, text, headers: res.headers }
    if (res.status >= 400) assertErrors(a, res.status)
    return a
  }
  const get = (url: string, token?: string) => call('GET', url, token === undefined ? {} : { token })

  // ---- CORS --------------------------------------------------------------------------
  await t.test('CORS: preflights from any origin allow Content-Type and Authorization; answers (errors too) carry Access-Control-Allow-Origin', async () => {
    const res = await fetch(`${api}/articles`, { method: 'OPTIONS', headers: { origin: 'https://front.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Authorization/i)
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Content-Type/i)
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /DELETE/)
    const ok = await fetch(`${api}/tags`, { headers: { origin: 'https://front.example' } })
    assert.equal(ok.headers.get('access-control-allow-origin'), '*')
    const bad = await fetch(`${api}/user`, { headers: { origin: 'https://front.example', authorization: 'Token forged' } })
    assert.equal(bad.status, 401)
    assert.equal(bad.headers.get('access-control-allow-origin'), '*')
  })

  // ---- registration --------------------------------------------------------------------
  const jake = { username: 'jake', email: 'jake@jake.jake', password: 'jakejake' }
  const uni = { username: 'Ünïcødé_名前-ß.x', email: 'Uni@Example.COM', password: 'pässwörd-ünï' }
  const carol = { username: 'carol', email: 'carol@example.com', password: 'carol password' }
  let jakeToken = ''
  let uniToken = ''
  let carolToken = ''

  await t.test('POST /users registers: 201, the User with a token, bio and image null', async () => {
    const a = await call('POST', '/users', { body: { user: jake } })
    assert.equal(a.status, 201)
    assert.deepEqual(Object.keys(a.json.user).sort(), ['bio', 'email', 'image', 'token', 'username'])
    assert.equal(a.json.user.username, 'jake')
    assert.equal(a.json.user.email, 'jake@jake.jake')
    assert.equal(a.json.user.bio, null)
    assert.equal(a.json.user.image, null)
    assert.match(a.json.user.token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    jakeToken = a.json.user.token
    const u = await call('POST', '/users', { body: { user: uni } })
    assert.equal(u.status, 201)
    assert.equal(u.json.user.username, uni.username)
    assert.equal(u.json.user.email, 'uni@example.com')
    uniToken = u.json.user.token
    carolToken = (await call('POST', '/users', { body: { user: carol } })).json.user.token
  })

  await t.test('POST /users refuses bad input with 422 and the fields', async () => {
    assertErrors(await call('POST', '/users', { body: { user: { ...jake, email: 'other@jake.jake' } } }), 422, 'username', /has already been taken/)
    assertErrors(await call('POST', '/users', { body: { user: { ...jake, username: 'jake2', email: 'JAKE@jake.jake' } } }), 422, 'email', /has already been taken/)
    const blank = await call('POST', '/users', { body: { user: { username: ' ', email: '' } } })
    for (const f of ['username', 'email', 'password']) assertErrors(blank, 422, f, /can't be blank/)
    assertErrors(await call('POST', '/users', { body: { user: { username: 'x1', email: 'not-an-email', password: 'long enough' } } }), 422, 'email', /is invalid/)
    for (const username of ['a/b', 'a\\b', '..', 'two words', 'tab\there']) {
      assertErrors(await call('POST', '/users', { body: { user: { username, email: 'ab@example.com', password: 'long enough' } } }), 422, 'username', /is invalid/)
    }
    assertErrors(await call('POST', '/users', { body: { user: { username: 'x2', email: 'x2@example.com', password: 'short' } } }), 422, 'password', /too short/)
    assertErrors(await call('POST', '/users', { body: { user: { username: 42, email: ['x'], password: 'long enough' } } }), 422, 'username', /must be a string/)
    assertErrors(await call('POST', '/users', { body: { user: { username: 'x'.repeat(65), email: 'x3@example.com', password: 'long enough' } } }), 422, 'username', /too long/)
    assertErrors(await call('POST', '/users', { body: jake }), 422, 'user', /can't be blank/)
    assertErrors(await call('POST', '/users', { body: { user: 'jake' } }), 422, 'user')
    assertErrors(await call('POST', '/users', { body: [1, 2] }), 422, 'body')
    assertErrors(await call('POST', '/users', { raw: '{"user": {' }), 422, 'body')
    assertErrors(await call('POST', '/users', { raw: '' }), 422, 'body')
  })

  // ---- login ---------------------------------------------------------------------------
  await t.test('POST /users/login: 200 and a working token; a wrong password or unknown email 401; missing fields 422', async () => {
    const a = await call('POST', '/users/login', { body: { user: { email: ' JAKE@jake.jake ', password: jake.password } } })
    assert.equal(a.status, 200)
    assert.equal(a.json.user.username, 'jake')
    assert.equal((await get('/user', a.json.user.token)).json.user.username, 'jake')
    const u = await call('POST', '/users/login', { body: { user: { email: uni.email, password: uni.password } } })
    assert.equal(u.status, 200)
    assert.equal(u.json.user.username, uni.username)
    assertErrors(await call('POST', '/users/login', { body: { user: { email: jake.email, password: 'wrong password' } } }), 401, 'credentials')
    assertErrors(await call('POST', '/users/login', { body: { user: { email: 'nobody@example.com', password: 'whatever1' } } }), 401, 'credentials')
    const missing = await call('POST', '/users/login', { body: { user: {} } })
    assertErrors(missing, 422, 'email', /can't be blank/)
    assertErrors(missing, 422, 'password', /can't be blank/)
    assertErrors(await call('POST', '/users/login', { body: { email: jake.email, password: jake.password } }), 422, 'user')
    assertErrors(await call('POST', '/users/login', { raw: 'nope' }), 422, 'body')
  })

  // ---- current user --------------------------------------------------------------------
  await t.test('GET /user: 200 with the token; 401 {errors} without one, with a forged, an expired, another scheme\'s or a garbage one', async () => {
    const a = await get('/user', jakeToken)
    assert.equal(a.status, 200)
    assert.deepEqual(a.json, { user: { email: jake.email, token: jakeToken, username: 'jake', bio: null, image: null } })
    const none = await get('/user')
    assertErrors(none, 401, 'token')
    assert.match(none.headers.get('www-authenticate') ?? '', /^Token/)
    const [h, payload] = jakeToken.split('.')
    assertErrors(await get('/user', `${h}.${payload}.${'A'.repeat(43)}`), 401, 'token', /invalid/)
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { uid: number; sub: string }
    assertErrors(await get('/user', `${h}.${Buffer.from(JSON.stringify({ ...claims, uid: claims.uid + 1, sub: String(claims.uid + 1) })).toString('base64url')}.${jakeToken.split('.')[2]}`), 401, 'token', /invalid/)
    // Expired: a genuine signature (the app's token key) on a token whose exp has passed.
    const keys = new Carafe({ secrets: SECRET, templates: false })
    const expired = await new SignJWT({ uid: claims.uid }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(claims.sub).setIssuedAt(1_600_000_000).setExpirationTime(1_600_000_100).sign(keys.key('token'))
    assertErrors(await get('/user', expired), 401, 'token', /expired/)
    assertErrors(await get('/user', 'not-a-jwt'), 401, 'token')
    assertErrors(await call('GET', '/user', { headers: { authorization: `Bearer ${jakeToken}` } }), 401, 'token')
    assertErrors(await call('GET', '/user', { headers: { authorization: 'Token' } }), 401, 'token')
  })

  // ---- update user ---------------------------------------------------------------------
  await t.test('PUT /user: bio and image; only http(s) or /uploads/ images; email taken 422; username and password change', async () => {
    assertErrors(await call('PUT', '/user', { body: { user: { bio: 'x' } } }), 401, 'token')
    let a = await call('PUT', '/user', { token: jakeToken, body: { user: { bio: 'I work at statefarm', image: 'https://i.stack.imgur.com/xHWG8.jpg' } } })
    assert.equal(a.status, 200)
    assert.equal(a.json.user.bio, 'I work at statefarm')
    assert.equal(a.json.user.image, 'https://i.stack.imgur.com/xHWG8.jpg')
    jakeToken = a.json.user.token
    for (const image of ['javascript:alert(1)', 'data:image/png;base64,AAAA', '//evil.example/x.png', 'ftp://x.example/a.png', '/uploads/../secret', 'https://x.example/a.png" onerror="x']) {
      assertErrors(await call('PUT', '/user', { token: jakeToken, body: { user: { image } } }), 422, 'image')
    }
    a = await call('PUT', '/user', { token: jakeToken, body: { user: { image: '/uploads/0123456789abcdef.png' } } })
    assert.equal(a.status, 200)
    assert.equal(a.json.user.image, '/uploads/0123456789abcdef.png')
    a = await call('PUT', '/user', { token: jakeToken, body: { user: { image: null } } })
    assert.equal(a.json.user.image, null)
    a = await call('PUT', '/user', { token: jakeToken, body: { user: { image: 'https://i.stack.imgur.com/xHWG8.jpg' } } })
    assertErrors(await call('PUT', '/user', { token: jakeToken, body: { user: { email: 'CAROL@example.com' } } }), 422, 'email', /has already been taken/)
    assertErrors(await call('PUT', '/user', { token: jakeToken, body: { user: { username: 'carol' } } }), 422, 'username', /has already been taken/)
    assertErrors(await call('PUT', '/user', { token: jakeToken, body: { user: { email: 'nope' } } }), 422, 'email', /is invalid/)
    assertErrors(await call('PUT', '/user', { token: jakeToken, body: { user: { username: '' } } }), 422, 'username', /can't be blank/)
    assertErrors(await call('PUT', '/user', { token: jakeToken, body: { user: {} } }), 422, 'user')
    assertErrors(await call('PUT', '/user', { token: jakeToken, body: { bio: 'no wrapper' } }), 422, 'user')
    // Its own email again is no clash.
    assert.equal((await call('PUT', '/user', { token: jakeToken, body: { user: { email: jake.email } } })).status, 200)

    // A new username: the profile moves.
    a = await call('PUT', '/user', { token: jakeToken, body: { user: { username: 'jacob' } } })
    assert.equal(a.status, 200)
    assert.equal(a.json.user.username, 'jacob')
    assertErrors(await get('/profiles/jake'), 404, 'profile')
    assert.equal((await get('/profiles/jacob')).status, 200)
    a = await call('PUT', '/user', { token: jakeToken, body: { user: { username: 'jake' } } })
    assert.equal(a.json.user.username, 'jake')

    // A new password: the response's token works, the old token does not, the new password logs in, the old one not.
    const old = jakeToken
    a = await call('PUT', '/user', { token: jakeToken, body: { user: { password: 'a new password' } } })
    assert.equal(a.status, 200)
    jakeToken = a.json.user.token
    assert.equal((await get('/user', jakeToken)).status, 200)
    assertErrors(await get('/user', old), 401, 'token')
    assertErrors(await call('POST', '/users/login', { body: { user: { email: jake.email, password: jake.password } } }), 401, 'credentials')
    a = await call('POST', '/users/login', { body: { user: { email: jake.email, password: 'a new password' } } })
    assert.equal(a.status, 200)
    jake.password = 'a new password'
  })

  // ---- profiles ------------------------------------------------------------------------
  await t.test('profiles: get (auth optional), follow and unfollow (auth required), 404 for an unknown user, odd usernames', async () => {
    let a = await get('/profiles/jake')
    assert.equal(a.status, 200)
    assertProfile(a.json.profile, 'jake', false)
    assert.equal(a.json.profile.bio, 'I work at statefarm')
    const uniPath = `/profiles/${encodeURIComponent(uni.username)}`
    a = await get(uniPath, jakeToken)
    assertProfile(a.json.profile, uni.username, false)
    assertErrors(await get('/profiles/nobody'), 404, 'profile')
    assertErrors(await call('POST', '/profiles/nobody/follow', { token: jakeToken }), 404, 'profile')
    assertErrors(await call('POST', uniPath + '/follow'), 401, 'token')
    assertErrors(await call('DELETE', uniPath + '/follow'), 401, 'token')
    a = await call('POST', uniPath + '/follow', { token: jakeToken })
    assert.equal(a.status, 200)
    assertProfile(a.json.profile, uni.username, true)
    a = await call('POST', uniPath + '/follow', { token: jakeToken })
    assertProfile(a.json.profile, uni.username, true)
    assertProfile((await get(uniPath, jakeToken)).json.profile, uni.username, true)
    assertProfile((await get(uniPath)).json.profile, uni.username, false)
    assertProfile((await get(uniPath, carolToken)).json.profile, uni.username, false)
    a = await call('DELETE', uniPath + '/follow', { token: jakeToken })
    assert.equal(a.status, 200)
    assertProfile(a.json.profile, uni.username, false)
    assertProfile((await get(uniPath, jakeToken)).json.profile, uni.username, false)
  })

  // ---- articles ------------------------------------------------------------------------
  const slugs: Record<string, string> = {}
  const longBody = `# Long\n\n${'All work and no play makes Jack a dull boy. ünï 名前 '.repeat(1100)}`.slice(0, 60_000)

  await t.test('POST /articles: 401 without a token, 422 for bad input, 201 with the article (tagList order kept, odd and unicode titles, a long body)', async () => {
    const draft = { title: 'How to train your dragon', description: 'Ever wonder how?', body: 'You have to believe', tagList: ['reactjs', 'angularjs', 'dragons'] }
    assertErrors(await call('POST', '/articles', { body: { article: draft } }), 401, 'token')
    const blank = await call('POST', '/articles', { token: jakeToken, body: { article: {} } })
    for (const f of ['title', 'description', 'body']) assertErrors(blank, 422, f, /can't be blank/)
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, title: '   ' } } }), 422, 'title', /can't be blank/)
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, tagList: 'dragons' } } }), 422, 'tagList')
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, tagList: ['ok', 3] } } }), 422, 'tagList')
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, title: 't'.repeat(256) } } }), 422, 'title', /too long/)
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, body: 'b'.repeat(70_000) } } }), 422, 'body', /too long/)
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: draft }), 422, 'article')
    // Past the app's body limit (1 MiB): 413, still {errors}.
    assertErrors(await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, body: 'b'.repeat(1_100_000) } } }), 413)

    const a = await call('POST', '/articles', { token: jakeToken, body: { article: draft } })
    assert.equal(a.status, 201)
    assertArticle(a.json.article, false)
    assert.equal(a.json.article.slug, 'how-to-train-your-dragon')
    assert.equal(a.json.article.title, draft.title)
    assert.equal(a.json.article.body, draft.body)
    assert.deepEqual(a.json.article.tagList, ['reactjs', 'angularjs', 'dragons'])
    assert.equal(a.json.article.favorited, false)
    assert.equal(a.json.article.favoritesCount, 0)
    assertProfile(a.json.article.author, 'jake', false)
    slugs.dragon = a.json.article.slug

    // The same title again: another slug.
    const twin = await call('POST', '/articles', { token: jakeToken, body: { article: { ...draft, tagList: ['dragons'] } } })
    assert.equal(twin.status, 201)
    assert.notEqual(twin.json.article.slug, slugs.dragon)
    assert.match(twin.json.article.slug, /^how-to-train-your-dragon-/)
    slugs.twin = twin.json.article.slug

    const odd = await call('POST', '/articles', { token: jakeToken, body: { article: { title: `Quotes ' " & <b>tags</b> ?#% / \\ 100%`, description: 'odd <characters> & "quotes"', body: longBody, tagList: ['  spaced  ', 'c++', 'c#', 'spaced'] } } })
    assert.equal(odd.status, 201)
    assert.equal(odd.json.article.title, `Quotes ' " & <b>tags</b> ?#% / \\ 100%`)
    assert.equal(odd.json.article.body, longBody)
    assert.deepEqual(odd.json.article.tagList, ['spaced', 'c++', 'c#'])
    assert.match(odd.json.article.slug, /^[a-z0-9-]+$/)
    slugs.odd = odd.json.article.slug

    const jp = await call('POST', '/articles', { token: uniToken, body: { article: { title: '日本語のタイトル — Ünïcødé', description: 'ßüñ', body: '本文 🐉', tagList: ['日本', 'ünï'] } } })
    assert.equal(jp.status, 201)
    assert.equal(jp.json.article.body, '本文 🐉')
    assert.deepEqual(jp.json.article.tagList, ['日本', 'ünï'])
    assert.match(jp.json.article.slug, /日本語/)
    assertProfile(jp.json.article.author, uni.username, false)
    slugs.jp = jp.json.article.slug

    const carols = await call('POST', '/articles', { token: carolToken, body: { article: { title: 'Carol writes', description: 'c', body: 'c', tagList: [] } } })
    assert.equal(carols.status, 201)
    assert.deepEqual(carols.json.article.tagList, [])
    slugs.carol = carols.json.article.slug
  })

  await t.test('GET /articles/:slug: the article with its body (auth optional), URL-encoded unicode slugs, 404 for a missing one', async () => {
    let a = await get(`/articles/${encodeURIComponent(slugs.jp!)}`)
    assert.equal(a.status, 200)
    assertArticle(a.json.article, false)
    assert.equal(a.json.article.title, '日本語のタイトル — Ünïcødé')
    a = await get(`/articles/${encodeURIComponent(slugs.odd!)}`, carolToken)
    assert.equal(a.json.article.body, longBody)
    assertErrors(await get('/articles/no-such-article'), 404, 'article')
    assertErrors(await get(`/articles/${encodeURIComponent('ünï/../x')}`), 404)
  })

  await t.test('GET /articles: newest first, no body, articlesCount, tag/author/favorited filters, limit and offset (422 when not whole numbers ≥ 0)', async () => {
    let a = await get('/articles')
    assert.equal(a.status, 200)
    assert.deepEqual(Object.keys(a.json).sort(), ['articles', 'articlesCount'])
    assert.equal(a.json.articlesCount, 5)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.carol, slugs.jp, slugs.odd, slugs.twin, slugs.dragon])
    for (const x of a.json.articles) assertArticle(x, true)
    a = await get('/articles?tag=dragons')
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.twin, slugs.dragon])
    assert.equal(a.json.articlesCount, 2)
    a = await get(`/articles?tag=${encodeURIComponent('日本')}`)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.jp])
    a = await get(`/articles?tag=${encodeURIComponent('c++')}`)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.odd])
    a = await get('/articles?author=jake')
    assert.equal(a.json.articlesCount, 3)
    a = await get(`/articles?author=${encodeURIComponent(uni.username)}`)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.jp])
    a = await get('/articles?author=nobody')
    assert.deepEqual(a.json, { articles: [], articlesCount: 0 })
    a = await get('/articles?tag=nothing-has-this')
    assert.deepEqual(a.json, { articles: [], articlesCount: 0 })
    a = await get('/articles?limit=2')
    assert.equal(a.json.articles.length, 2)
    assert.equal(a.json.articlesCount, 5)
    a = await get('/articles?limit=2&offset=2')
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.odd, slugs.twin])
    assert.equal(a.json.articlesCount, 5)
    a = await get('/articles?offset=4')
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.dragon])
    a = await get('/articles?offset=50')
    assert.deepEqual(a.json, { articles: [], articlesCount: 5 })
    a = await get('/articles?author=jake&limit=1&offset=1')
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.twin])
    assert.equal(a.json.articlesCount, 3)
    for (const q of ['limit=-1', 'limit=abc', 'limit=1.5', 'offset=-3', 'offset=x', 'limit=99999999999999999999', 'limit=1e3', 'offset= 1']) {
      assertErrors(await get(`/articles?${q}`), 422, q.split('=')[0])
    }
  })

  await t.test('GET /articles/feed: 401 without a token; the articles of followed authors, newest first, with limit and offset', async () => {
    assertErrors(await get('/articles/feed'), 401, 'token')
    let a = await get('/articles/feed', carolToken)
    assert.deepEqual(a.json, { articles: [], articlesCount: 0 })
    await call('POST', '/profiles/jake/follow', { token: carolToken })
    await call('POST', `/profiles/${encodeURIComponent(uni.username)}/follow`, { token: carolToken })
    a = await get('/articles/feed', carolToken)
    assert.equal(a.status, 200)
    assert.equal(a.json.articlesCount, 4)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.jp, slugs.odd, slugs.twin, slugs.dragon])
    for (const x of a.json.articles) {
      assertArticle(x, true)
      assert.equal(x.author.following, true)
    }
    a = await get('/articles/feed?limit=1&offset=1', carolToken)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.odd])
    assert.equal(a.json.articlesCount, 4)
    assertErrors(await get('/articles/feed?limit=-5', carolToken), 422, 'limit')
    // `following` is the viewer's: jake's articles in the global list are followed for carol, not for jake or a visitor.
    a = await get('/articles?author=jake', carolToken)
    assert.ok(a.json.articles.every((x: Json) => x.author.following === true))
    a = await get('/articles?author=jake')
    assert.ok(a.json.articles.every((x: Json) => x.author.following === false))
    assert.equal((await get(`/articles/${slugs.dragon}`, carolToken)).json.article.author.following, true)
    await call('DELETE', '/profiles/jake/follow', { token: carolToken })
    a = await get('/articles/feed', carolToken)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.jp])
  })

  await t.test('favorite and unfavorite: 401 without a token, 404 for a missing article, favorited and favoritesCount for the viewer, ?favorited=', async () => {
    assertErrors(await call('POST', `/articles/${slugs.dragon}/favorite`), 401, 'token')
    assertErrors(await call('DELETE', `/articles/${slugs.dragon}/favorite`), 401, 'token')
    assertErrors(await call('POST', '/articles/no-such-article/favorite', { token: carolToken }), 404, 'article')
    let a = await call('POST', `/articles/${slugs.dragon}/favorite`, { token: carolToken })
    assert.equal(a.status, 200)
    assertArticle(a.json.article, false)
    assert.equal(a.json.article.favorited, true)
    assert.equal(a.json.article.favoritesCount, 1)
    a = await call('POST', `/articles/${slugs.dragon}/favorite`, { token: carolToken })
    assert.equal(a.json.article.favoritesCount, 1)
    a = await call('POST', `/articles/${slugs.dragon}/favorite`, { token: uniToken })
    assert.equal(a.json.article.favoritesCount, 2)
    await call('POST', `/articles/${encodeURIComponent(slugs.jp!)}/favorite`, { token: carolToken })
    a = await get(`/articles/${slugs.dragon}`, jakeToken)
    assert.equal(a.json.article.favorited, false)
    assert.equal(a.json.article.favoritesCount, 2)
    a = await get('/articles?favorited=carol', carolToken)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.jp, slugs.dragon])
    assert.equal(a.json.articlesCount, 2)
    assert.ok(a.json.articles.every((x: Json) => x.favorited === true))
    a = await get('/articles?favorited=carol')
    assert.ok(a.json.articles.every((x: Json) => x.favorited === false))
    a = await get(`/articles?favorited=${encodeURIComponent(uni.username)}&tag=dragons`)
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.dragon])
    a = await call('DELETE', `/articles/${slugs.dragon}/favorite`, { token: carolToken })
    assert.equal(a.status, 200)
    assert.equal(a.json.article.favorited, false)
    assert.equal(a.json.article.favoritesCount, 1)
    a = await get('/articles?favorited=carol')
    assert.deepEqual(a.json.articles.map((x: Json) => x.slug), [slugs.jp])
    assertErrors(await call('DELETE', '/articles/no-such-article/favorite', { token: carolToken }), 404, 'article')
  })

  await t.test('PUT /articles/:slug: 401, 403 for another author, 404, 422; a new title makes a new slug (the old one is 404), the rest keeps it', async () => {
    assertErrors(await call('PUT', `/articles/${slugs.dragon}`, { body: { article: { title: 'x' } } }), 401, 'token')
    assertErrors(await call('PUT', `/articles/${slugs.dragon}`, { token: carolToken, body: { article: { title: 'Stolen' } } }), 403, 'article')
    assertErrors(await call('PUT', '/articles/no-such-article', { token: jakeToken, body: { article: { title: 'x' } } }), 404, 'article')
    assertErrors(await call('PUT', `/articles/${slugs.dragon}`, { token: jakeToken, body: { article: { title: '' } } }), 422, 'title', /can't be blank/)
    assertErrors(await call('PUT', `/articles/${slugs.dragon}`, { token: jakeToken, body: { title: 'no wrapper' } }), 422, 'article')
    const before = (await get(`/articles/${slugs.dragon}`)).json.article
    await new Promise((r) => setTimeout(r, 5))
    let a = await call('PUT', `/articles/${slugs.dragon}`, { token: jakeToken, body: { article: { description: 'A new description' } } })
    assert.equal(a.status, 200)
    assertArticle(a.json.article, false)
    assert.equal(a.json.article.slug, slugs.dragon)
    assert.equal(a.json.article.description, 'A new description')
    assert.equal(a.json.article.title, 'How to train your dragon')
    assert.equal(a.json.article.createdAt, before.createdAt)
    assert.ok(a.json.article.updatedAt > before.updatedAt)
    a = await call('PUT', `/articles/${slugs.dragon}`, { token: jakeToken, body: { article: { title: 'Did you train your dragon?', body: 'New body' } } })
    assert.equal(a.status, 200)
    assert.equal(a.json.article.slug, 'did-you-train-your-dragon')
    assert.equal(a.json.article.body, 'New body')
    assert.deepEqual(a.json.article.tagList, ['reactjs', 'angularjs', 'dragons'])
    assert.equal(a.json.article.favoritesCount, 1)
    assertErrors(await get(`/articles/${slugs.dragon}`), 404, 'article')
    slugs.dragon = a.json.article.slug
    assert.equal((await get(`/articles/${slugs.dragon}`)).json.article.title, 'Did you train your dragon?')
  })

  // ---- comments ------------------------------------------------------------------------
  await t.test('comments: list (auth optional), add (401, 422, 200 with the comment), delete (401, 403 for another author, 404, 204)', async () => {
    const c = `/articles/${slugs.dragon}/comments`
    assert.deepEqual((await get(c)).json, { comments: [] })
    assertErrors(await get('/articles/no-such-article/comments'), 404, 'article')
    assertErrors(await call('POST', c, { body: { comment: { body: 'hi' } } }), 401, 'token')
    assertErrors(await call('POST', c, { token: carolToken, body: { comment: { body: '  ' } } }), 422, 'body', /can't be blank/)
    assertErrors(await call('POST', c, { token: carolToken, body: { comment: {} } }), 422, 'body', /can't be blank/)
    assertErrors(await call('POST', c, { token: carolToken, body: { body: 'no wrapper' } }), 422, 'comment')
    assertErrors(await call('POST', '/articles/no-such-article/comments', { token: carolToken, body: { comment: { body: 'hi' } } }), 404, 'article')
    const a = await call('POST', c, { token: carolToken, body: { comment: { body: 'His name was my name too. <b>ünï</b> 🐉' } } })
    assert.equal(a.status, 200)
    assertComment(a.json.comment)
    assert.equal(a.json.comment.body, 'His name was my name too. <b>ünï</b> 🐉')
    assertProfile(a.json.comment.author, 'carol', false)
    const second = await call('POST', c, { token: uniToken, body: { comment: { body: 'Second' } } })
    assert.equal(second.status, 200)
    let list = await get(c, jakeToken)
    assert.deepEqual(list.json.comments.map((m: Json) => m.id), [a.json.comment.id, second.json.comment.id])
    for (const m of list.json.comments) assertComment(m)
    await call('POST', '/profiles/carol/follow', { token: jakeToken })
    list = await get(c, jakeToken)
    assert.equal(list.json.comments[0].author.following, true)
    assert.equal((await get(c)).json.comments[0].author.following, false)
    await call('DELETE', '/profiles/carol/follow', { token: jakeToken })

    const id = a.json.comment.id as number
    assertErrors(await call('DELETE', `${c}/${id}`), 401, 'token')
    assertErrors(await call('DELETE', `${c}/${id}`, { token: jakeToken }), 403, 'comment')
    assertErrors(await call('DELETE', `${c}/999999`, { token: carolToken }), 404, 'comment')
    assertErrors(await call('DELETE', `${c}/abc`, { token: carolToken }), 404)
    assertErrors(await call('DELETE', `/articles/${slugs.twin}/comments/${id}`, { token: carolToken }), 404, 'comment')
    assertErrors(await call('DELETE', `/articles/no-such-article/comments/${id}`, { token: carolToken }), 404, 'article')
    const d = await call('DELETE', `${c}/${id}`, { token: carolToken })
    assert.equal(d.status, 204)
    assert.equal(d.text, '')
    assert.deepEqual((await get(c)).json.comments.map((m: Json) => m.id), [second.json.comment.id])
    assertErrors(await call('DELETE', `${c}/${id}`, { token: carolToken }), 404, 'comment')
  })

  await t.test('DELETE /articles/:slug: 401, 403 for another author, 404, then 204 and the article is gone (its URL 404)', async () => {
    assertErrors(await call('DELETE', `/articles/${slugs.twin}`), 401, 'token')
    assertErrors(await call('DELETE', `/articles/${slugs.twin}`, { token: carolToken }), 403, 'article')
    assertErrors(await call('DELETE', '/articles/no-such-article', { token: jakeToken }), 404, 'article')
    await call('POST', `/articles/${slugs.twin}/comments`, { token: carolToken, body: { comment: { body: 'doomed' } } })
    await call('POST', `/articles/${slugs.twin}/favorite`, { token: carolToken })
    const d = await call('DELETE', `/articles/${slugs.twin}`, { token: jakeToken })
    assert.equal(d.status, 204)
    assert.equal(d.text, '')
    assertErrors(await get(`/articles/${slugs.twin}`), 404, 'article')
    assertErrors(await get(`/articles/${slugs.twin}/comments`), 404, 'article')
    assertErrors(await call('DELETE', `/articles/${slugs.twin}`, { token: jakeToken }), 404, 'article')
    const all = await get('/articles')
    assert.equal(all.json.articlesCount, 4)
    assert.ok(!all.json.articles.some((x: Json) => x.slug === slugs.twin))
    // Deleting the unicode article works through its encoded slug too.
    const jp = await call('DELETE', `/articles/${encodeURIComponent(slugs.jp!)}`, { token: uniToken })
    assert.equal(jp.status, 204)
    assertErrors(await get(`/articles/${encodeURIComponent(slugs.jp!)}`), 404, 'article')
  })

  await t.test('GET /tags: the tags in use', async () => {
    const a = await get('/tags')
    assert.equal(a.status, 200)
    assert.deepEqual(Object.keys(a.json), ['tags'])
    assert.deepEqual([...a.json.tags].sort(), ['angularjs', 'c#', 'c++', 'dragons', 'reactjs', 'spaced'])
  })

  // ---- the session cookie is not an API credential -------------------------------------
  await t.test('a valid session cookie without a token is anonymous to the API: 401 on writes, no viewer on reads', async () => {
    // A signed-in browser session for jake, written into the app's session store (as the
    // site's login would) with the same secret; the admin's 403 (not its login redirect)
    // shows the site takes it as jake's.
    const site = new Carafe({ secrets: SECRET, templates: false })
    const sessions = session({ store: sqliteStore({ path: path.join(dir, 'sessions.db') }), maxAge: '14d' })
    const login = auth({ loadUser: () => undefined, tokens: { scheme: 'Token', maxAge: '30d' } })
    site.use(sessions)
    site.use(login)
    await site.startup()
    t.after(() => site.shutdown())
    const jakeId = (JSON.parse(Buffer.from(jakeToken.split('.')[1]!, 'base64url').toString()) as { uid: number }).uid
    const cookie = await sessions.createSession(site, login.sessionDataFor({ id: jakeId, passwordHash: await backend.passwordHash('jake') } as never, site))
    const cookieHeader = `${cookie.name}=${cookie.value}`
    const admin = await fetch(`${base}/admin/`, { headers: { cookie: cookieHeader, accept: 'application/json' }, redirect: 'manual' })
    assert.equal(admin.status, 403, 'the session cookie signs jake in on the site')

    const withCookie = { cookie: cookieHeader, origin: 'https://evil.example' }
    assertErrors(await call('POST', '/articles', { headers: withCookie, body: { article: { title: 'CSRF', description: 'd', body: 'b' } } }), 401, 'token')
    assertErrors(await call('GET', '/user', { headers: withCookie }), 401, 'token')
    assertErrors(await call('PUT', '/user', { headers: withCookie, body: { user: { bio: 'pwned' } } }), 401, 'token')
    assertErrors(await call('DELETE', `/articles/${slugs.dragon}`, { headers: withCookie }), 401, 'token')
    assertErrors(await call('POST', `/articles/${slugs.dragon}/favorite`, { headers: withCookie }), 401, 'token')
    assertErrors(await call('POST', `/articles/${slugs.dragon}/comments`, { headers: withCookie, body: { comment: { body: 'x' } } }), 401, 'token')
    assertErrors(await call('POST', '/profiles/carol/follow', { headers: withCookie }), 401, 'token')
    assertErrors(await call('GET', '/articles/feed', { headers: withCookie }), 401, 'token')
    // Reads see a visitor: carol's favorite is not jake's, and nothing changed.
    await call('POST', '/profiles/carol/follow', { token: jakeToken })
    assert.equal((await call('GET', '/profiles/carol', { headers: withCookie })).json.profile.following, false)
    assert.equal((await call('GET', '/profiles/carol', { token: jakeToken })).json.profile.following, true)
    assert.equal((await get('/user', jakeToken)).json.user.bio, 'I work at statefarm')
    assert.equal((await get('/articles?author=jake')).json.articlesCount, 2)
  })

  // ---- Carafe's own errors in the API's shape --------------------------------------------
  await t.test("Carafe's own errors come out as {errors}: unknown path 404, wrong method 405 (with Allow), login throttling 429", async () => {
    assertErrors(await get('/nope'), 404, 'body')
    assertErrors(await get('/articles/x/y/z'), 404)
    assertErrors(await call('GET', '/nope', { headers: { accept: 'text/html' } }), 404)
    const m = await call('PATCH', '/tags')
    assertErrors(m, 405)
    assert.match(m.headers.get('allow') ?? '', /GET/)
    assertErrors(await call('DELETE', '/users'), 405)
    // Refused before any middleware runs (a malformed percent-encoding): the same shape, CORS too.
    const bad = await call('GET', '/articles/%E0%A4%A', { headers: { origin: 'https://front.example' } })
    assertErrors(bad, 400)
    assert.equal(bad.headers.get('access-control-allow-origin'), '*')
    assertErrors(await get('/articles?limit=%ZZ'), 400)
    // The login limiter (CONDUIT_LOGIN_LIMIT tries per client): its refusal too.
    let last: Answer | undefined
    for (let i = 0; i < LOGIN_LIMIT + 1; i++) {
      last = await call('POST', '/users/login', { body: { user: { email: 'nobody@example.com', password: 'whatever' } } })
      if (last.status === 429) break
    }
    assertErrors(last!, 429)
    assert.ok(last!.headers.get('retry-after') !== null)
  })

  await t.test('no request above made the server fail (no 500, nothing logged as failed)', () => {
    assert.doesNotMatch(p.stderr(), /failed:|Internal Server Error|Unhandled|TypeError/, p.stderr())
  })
  // Stopped here, so the schema or database it used is dropped after it has let go of it.
  p.child.kill('SIGTERM')
  await p.exited
}

describe('examples/conduit: the RealWorld JSON API', { timeout: 180_000 }, () => {
  it('on SQLite', async (t) => {
    await conformance(t, (dir) => ({
      env: {},
      async passwordHash(username) {
        const Database = require('better-sqlite3') as typeof import('better-sqlite3')
        const db = new Database(path.join(dir, 'conduit.db'), { readonly: true })
        try {
          return (db.prepare('select password_hash from users where username = ?').get(username) as { password_hash: string }).password_hash
        } finally {
          db.close()
        }
      },
    }))
  })

  it('on PostgreSQL (a schema of its own)', async (t) => {
    if (!(await needService(t, 'postgres'))) return
    const { schema, url, admin } = await ownPgSchema(t, 'conduit_api')
    await conformance(t, () => ({
      env: { DATABASE_URL: url },
      async passwordHash(username) {
        return (await admin.query<{ password_hash: string }>(`select password_hash from ${schema}.users where username = $1`, [username])).rows[0]!.password_hash
      },
    }))
  })

  it('on MariaDB (a database of its own)', async (t) => {
    if (!(await needService(t, 'mariadb'))) return
    const mysql = require('mysql2/promise') as typeof import('mysql2/promise')
    const name = uniqueName('conduit_api')
    const admin = await mysql.createConnection(SERVICES.mariadb.url)
    await admin.query(`create database ${name}`)
    t.after(async () => {
      await admin.query(`drop database ${name}`)
      await admin.end()
    })
    await conformance(t, () => ({
      env: { DATABASE_URL: SERVICES.mariadb.url.replace(/\/test$/, `/${name}`) },
      async passwordHash(username) {
        const [rows] = await admin.query(`select password_hash from ${name}.users where username = ?`, [username])
        return (rows as Array<{ password_hash: string }>)[0]!.password_hash
      },
    }))
  })
})
