import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Carafe, type CarafeOptions } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { csrf, maskToken, tokenMatches, type CsrfOptions } from '../../src/auth/index.js'
import { testClient, testFile, type TestClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'
import { captureErrors } from '../helpers/capture.js'

const FORM = `<form method="post" action="/note">{{ csrf_field() }}<input name="text"></form>
<p id="token">{{ csrf_token() }}</p>`

async function templates(t: TestContext): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'carafe-csrf-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  await mkdir(path.join(root, 'views'))
  await writeFile(path.join(root, 'views', 'form.html'), FORM)
  return root
}

interface Site {
  url: string
  port: number
  /** A browser-like client over real HTTP (its cookie jar on), sending no Origin or Sec-Fetch-Site unless told. */
  client: TestClient
  /** What the handlers stored: each accepted note. */
  notes: string[]
}

/** session() + csrf() in front of a form page and handlers that change state. */
async function site(t: TestContext, options: { app?: CarafeOptions; csrf?: CsrfOptions; session?: boolean } = {}): Promise<Site> {
  const root = await templates(t)
  const app = new Carafe({ root, templates: 'views', ...options.app })
  if (options.session !== false) app.use(session())
  app.use(csrf(options.csrf))
  const notes: string[] = []
  app.get('/form', (c) => c.render('form.html'))
  app.get('/token', (c) => c.csrfToken())
  app.get('/notes', (c) => ({ notes, session: options.session === false ? null : (c.session.get('notes') ?? []) }))
  app.all('/note', async (c) => {
    let text = 'json'
    const type = c.req.contentType
    if (type === 'application/json') text = String((await c.req.json<{ text: string }>()).text)
    else if (type.length > 0) {
      const f = await c.req.form()
      text = f.text('text') ?? ''
      const file = f.file('doc')
      if (file !== undefined) text += `+${await file.text()}`
    }
    notes.push(text)
    if (options.session !== false) c.session.set('notes', [...((c.session.get('notes') as string[] | undefined) ?? []), text])
    return { ok: true, text }
  })
  app.post('/hooks/<path:rest>', () => 'hook')
  app.post('/ping', () => 'pong')
  app.post('/pingx', () => 'pongx')
  const s = await serve(t, app)
  return { url: s.url, port: s.port, client: testClient(app, { origin: s.url, fetch: (r) => fetch(r) }), notes }
}

function tokenIn(html: string): string {
  const m = /<input type="hidden" name="_csrf" value="([A-Za-z0-9_-]+)">/.exec(html)
  assert.ok(m, `no csrf_field() in ${html}`)
  return m[1]!
}

async function refused(res: Response, pattern: RegExp): Promise<void> {
  assert.equal(res.status, 403)
  assert.match(await res.text(), pattern)
}

describe('csrf(): Sec-Fetch-Site and Origin', () => {
  it('allows Sec-Fetch-Site same-origin and none without a token, and never checks safe methods', async (t) => {
    const { client, notes } = await site(t)
    for (const site of ['same-origin', 'none']) {
      const res = await client.post('/note', { form: { text: site }, headers: { 'sec-fetch-site': site } })
      assert.equal(res.status, 200, site)
      assert.deepEqual(await res.json(), { ok: true, text: site })
    }
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const res = await client.request(method, '/notes', { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
      assert.ok(res.status === 200 || res.status === 204, `${method} ${res.status}`)
    }
    assert.deepEqual(notes, ['same-origin', 'none'])
  })

  it('refuses cross-site and same-site with a 403 naming the check, and nothing stored changes', async (t) => {
    const { client, notes } = await site(t)
    await client.post('/note', { form: { text: 'first' }, headers: { 'sec-fetch-site': 'same-origin' } })
    for (const site of ['cross-site', 'same-site']) {
      const res = await client.post('/note', { form: { text: 'evil' }, headers: { 'sec-fetch-site': site, origin: 'https://evil.example' } })
      assert.equal(res.headers.get('set-cookie'), null)
      await refused(res, new RegExp(`cross-site request refused: Sec-Fetch-Site is ${site}, and Origin https://evil.example is not in trustedOrigins`))
    }
    await refused(await client.post('/note', { form: { text: 'evil' }, headers: { 'sec-fetch-site': 'cross-site' } }), /^403 Forbidden: cross-site request refused: Sec-Fetch-Site is cross-site\n$/)
    assert.deepEqual(notes, ['first'])
    assert.deepEqual(await (await client.get('/notes')).json(), { notes: ['first'], session: ['first'] })
  })

  it('allows an Origin in the app\'s trustedOrigins or in csrf({ trustedOrigins }), whatever Sec-Fetch-Site says', async (t) => {
    const { client, notes } = await site(t, { app: { trustedOrigins: ['https://admin.example.com'] }, csrf: { trustedOrigins: ['http://partner.test:8080/'] } })
    for (const origin of ['https://admin.example.com', 'https://ADMIN.example.com:443', 'http://partner.test:8080']) {
      const res = await client.post('/note', { form: { text: origin }, headers: { 'sec-fetch-site': 'cross-site', origin } })
      assert.equal(res.status, 200, origin)
    }
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { 'sec-fetch-site': 'cross-site', origin: 'http://partner.test:8081' } }), /Sec-Fetch-Site is cross-site/)
    // Without Sec-Fetch-Site too (an old browser on the admin site).
    assert.equal((await client.post('/note', { form: { text: 'old' }, headers: { origin: 'https://admin.example.com' } })).status, 200)
    assert.equal(notes.length, 4)
  })

  it('without Sec-Fetch-Site, compares Origin, then Referer, with the request\'s own origin', async (t) => {
    const { client, url, notes } = await site(t)
    assert.equal((await client.post('/note', { form: { text: 'o' }, headers: { origin: url } })).status, 200)
    assert.equal((await client.post('/note', { form: { text: 'r' }, headers: { referer: `${url}/form?x=1` } })).status, 200)
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { origin: 'http://evil.example' } }), new RegExp(`Origin http://evil.example is not this site's origin ${url.replace(/\./g, '\\.')}`))
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { origin: 'null' } }), /cross-origin request refused: Origin null/)
    // Origin wins over a matching Referer.
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { origin: 'http://evil.example', referer: `${url}/form` } }), /Origin http:\/\/evil\.example/)
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { referer: 'http://evil.example/page' } }), /the Referer's origin http:\/\/evil\.example is not this site's origin/)
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { referer: 'not a url' } }), /the Referer's origin \(unreadable\)/)
    // An https page behind an untrusted TLS proxy: the hint says what to set.
    await refused(await client.post('/note', { form: { text: 'x' }, headers: { origin: url.replace('http:', 'https:') } }), /set the app's trustProxy option/)
    assert.deepEqual(notes, ['o', 'r'])
  })

  it('answers its 403 as JSON or HTML like other Carafe errors', async (t) => {
    const { client } = await site(t)
    const json = await client.post('/note', { json: { text: 'x' }, headers: { 'sec-fetch-site': 'cross-site', accept: 'application/json' } })
    assert.equal(json.status, 403)
    assert.deepEqual(await json.json(), { error: 'Forbidden', status: 403, message: 'cross-site request refused: Sec-Fetch-Site is cross-site' })
    const html = await client.post('/note', { form: { text: 'x' }, headers: { 'sec-fetch-site': 'cross-site', accept: 'text/html' } })
    assert.equal(html.status, 403)
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await html.text(), /<h1>403 Forbidden<\/h1>\n<p>cross-site request refused: Sec-Fetch-Site is cross-site<\/p>/)
  })

  it('works on a plain-HTTP LAN address (no Sec-Fetch-Site) through Origin and through the token (rails/rails#56580)', async (t) => {
    const { port, notes } = await site(t)
    const lan = '192.168.1.5:8000'
    const byOrigin = await lanRequest(port, lan, 'POST', '/note', { origin: `http://${lan}`, 'content-type': 'application/x-www-form-urlencoded' }, 'text=lan')
    assert.equal(byOrigin.status, 200, byOrigin.body)
    const cross = await lanRequest(port, lan, 'POST', '/note', { origin: 'http://192.168.1.6:8000', 'content-type': 'application/x-www-form-urlencoded' }, 'text=x')
    assert.equal(cross.status, 403)
    assert.match(cross.body, /Origin http:\/\/192\.168\.1\.6:8000 is not this site's origin http:\/\/192\.168\.1\.5:8000/)
    // An old browser that sends no Origin: the form's token carries it.
    const page = await lanRequest(port, lan, 'GET', '/form', {}, '')
    const cookie = page.setCookie.map((line) => line.split(';')[0]).join('; ')
    assert.match(cookie, /^sid=/)
    const byToken = await lanRequest(port, lan, 'POST', '/note', { cookie, 'content-type': 'application/x-www-form-urlencoded' }, `_csrf=${tokenIn(page.body)}&text=token`)
    assert.equal(byToken.status, 200, byToken.body)
    const noToken = await lanRequest(port, lan, 'POST', '/note', { cookie, 'content-type': 'application/x-www-form-urlencoded' }, 'text=x')
    assert.equal(noToken.status, 403)
    assert.deepEqual(notes, ['lan', 'token'])
  })
})

describe('csrf(): the session token', () => {
  it('renders csrf_field() and csrf_token() in a template, masked anew on each render', async (t) => {
    const { client } = await site(t)
    const res = await client.get('/form')
    assert.equal(res.status, 200)
    const html = await res.text()
    assert.match(html, /^<form method="post" action="\/note"><input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{86}"><input name="text"><\/form>/)
    const field = tokenIn(html)
    const shown = /<p id="token">([A-Za-z0-9_-]{86})<\/p>/.exec(html)?.[1]
    assert.ok(shown)
    assert.notEqual(field, shown)
    const again = tokenIn(await (await client.get('/form')).text())
    assert.notEqual(again, field)
  })

  it('accepts the token in the _csrf field (urlencoded and multipart) and X-CSRF-Token; the handler reads the form again', async (t) => {
    const { client, notes } = await site(t)
    const token = tokenIn(await (await client.get('/form')).text())
    const urlencoded = await client.post('/note', { form: { _csrf: token, text: 'plain' } })
    assert.equal(urlencoded.status, 200)
    assert.deepEqual(await urlencoded.json(), { ok: true, text: 'plain' })
    const multipart = await client.post('/note', { form: { _csrf: token, text: 'upload', doc: testFile('a.txt', 'file body', 'text/plain') } })
    assert.equal(multipart.status, 200)
    assert.deepEqual(await multipart.json(), { ok: true, text: 'upload+file body' })
    const header = await client.post('/note', { json: { text: 'api' }, headers: { 'x-csrf-token': await (await client.get('/token')).text() } })
    assert.equal(header.status, 200)
    assert.deepEqual(notes, ['plain', 'upload+file body', 'api'])
    assert.deepEqual(await (await client.get('/notes')).json(), { notes, session: notes })
  })

  it('refuses a missing, foreign, tampered or malformed token with a 403 that says so, storing nothing', async (t) => {
    const { client, notes, url } = await site(t)
    const other = (await site(t)).client
    const token = tokenIn(await (await client.get('/form')).text())
    const foreign = tokenIn(await (await other.get('/form')).text())
    await refused(await client.post('/note', { form: { text: 'x' } }), /CSRF token missing: .* _csrf form field .* X-CSRF-Token header/)
    await refused(await client.post('/note', { json: { text: 'x' } }), /CSRF token missing/)
    await refused(await client.post('/note', { form: { _csrf: foreign, text: 'x' } }), /CSRF token invalid: the token does not belong to this session/)
    const flipped = token.slice(0, 50) + (token[50] === 'A' ? 'B' : 'A') + token.slice(51)
    for (const bad of [flipped, token.slice(0, 85), `${token}A`, token.replace(/./, '*'), 'x']) {
      await refused(await client.post('/note', { form: { _csrf: bad, text: 'x' } }), /CSRF token invalid/)
    }
    // A token without a session: the cookie is gone, so the session has no secret.
    const fresh = testClient({ fetch: (r: Request) => fetch(r) }, { origin: url, fetch: (r) => fetch(r) })
    await refused(await fresh.post('/note', { form: { _csrf: token, text: 'x' } }), /CSRF token invalid: this session was never given a CSRF token/)
    assert.deepEqual(notes, [])
    assert.deepEqual(await (await client.get('/notes')).json(), { notes: [], session: [] })
  })

  it('needs session() only on the token path, and says to install it', async (t) => {
    const { client, notes } = await site(t, { session: false })
    assert.equal((await client.post('/note', { form: { text: 'ok' }, headers: { 'sec-fetch-site': 'same-origin' } })).status, 200)
    const res = await client.post('/note', { form: { text: 'x' } })
    assert.equal(res.status, 500)
    assert.match(await res.text(), /add app\.use\(session\(\)\) \(from 'carafe\/session'\) before app\.use\(csrf\(\)\)/)
    // c.csrfToken() without a session is a bug in the app: a 500, and the log says what to do.
    const { value: page, logged } = await captureErrors(() => client.get('/token'))
    assert.equal(page.status, 500)
    assert.match(logged, /ERR_NO_SESSION|CSRF tokens live in the session: add app\.use\(session\(\)\)/)
    assert.deepEqual(notes, ['ok'])
  })
})

describe('csrf(): exemptions', () => {
  it('does not check bearer-token requests that carry no cookie, but does check Basic credentials and cookies', async (t) => {
    const { url, notes } = await site(t)
    const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
    const api = testClient({ fetch: (r: Request) => fetch(r) }, { origin: url, cookies: false, fetch: (r) => fetch(r) })
    assert.equal((await api.post('/note', { json: { text: 'bearer' }, headers: { ...cross, authorization: 'Bearer abc.def' } })).status, 200)
    assert.equal((await api.post('/note', { json: { text: 'token' }, headers: { ...cross, authorization: 'Token abc' } })).status, 200)
    await refused(await api.post('/note', { json: { text: 'x' }, headers: { ...cross, authorization: 'Bearer abc', cookie: 'sid=x' } }), /Sec-Fetch-Site is cross-site/)
    await refused(await api.post('/note', { json: { text: 'x' }, headers: { ...cross, authorization: 'Basic dTpw' } }), /Sec-Fetch-Site is cross-site/)
    assert.deepEqual(notes, ['bearer', 'token'])
  })

  it('skips exempt paths and subtrees, decided on whole segments', async (t) => {
    const { client } = await site(t, { csrf: { exempt: ['/hooks/*', '/ping'] } })
    const cross = { 'sec-fetch-site': 'cross-site' }
    assert.equal((await client.post('/hooks/stripe', { headers: cross })).status, 200)
    assert.equal((await client.post('/ping', { headers: cross })).status, 200)
    await refused(await client.post('/pingx', { headers: cross }), /Sec-Fetch-Site is cross-site/)
    await refused(await client.post('/note', { headers: cross }), /Sec-Fetch-Site is cross-site/)
    const fn = await site(t, { csrf: { exempt: (c) => c.req.header('x-webhook') === 'yes' } })
    assert.equal((await fn.client.post('/ping', { headers: { ...cross, 'x-webhook': 'yes' } })).status, 200)
    await refused(await fn.client.post('/ping', { headers: cross }), /Sec-Fetch-Site/)
  })
})

describe('csrf tokens', () => {
  it('mask the secret with a fresh mask each time and unmask only to it', () => {
    const secret = randomBytes(32)
    const a = maskToken(secret)
    const b = maskToken(secret)
    assert.notEqual(a, b)
    assert.equal(a.length, 86)
    assert.ok(tokenMatches(a, secret))
    assert.ok(tokenMatches(b, secret))
    assert.ok(!tokenMatches(a, randomBytes(32)))
    assert.ok(!tokenMatches(secret.toString('base64url'), secret))
    assert.ok(!tokenMatches('', secret))
  })
})

/** A request over real HTTP with a Host header of our choosing (fetch cannot set Host). */
function lanRequest(port: number, host: string, method: string, target: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers: { host, ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, setCookie: res.headers['set-cookie'] ?? [] }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
