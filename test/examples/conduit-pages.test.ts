import { before, after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawnCli, type Spawned } from '../helpers/spawn.js'

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')

/** A browser without JavaScript: a cookie jar, the last CSRF token of a page, same-origin headers. */
class Browser {
  cookies = new Map<string, string>()
  token = ''
  constructor(readonly url: string) {}
  async go(p: string, init: RequestInit = {}): Promise<{ status: number; body: string; location: string | null }> {
    const headers = new Headers(init.headers)
    headers.set('accept', headers.get('accept') ?? 'text/html')
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const res = await fetch(this.url + p, { redirect: 'manual', ...init, headers })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair!.indexOf('=')
      if (/max-age=0/i.test(c)) this.cookies.delete(pair!.slice(0, i))
      else this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1))
    }
    const body = await res.text()
    const m = /name="_csrf" value="([^"]+)"/.exec(body)
    if (m !== null) this.token = m[1]!
    return { status: res.status, body, location: res.headers.get('location') }
  }
  /** A form post as a browser sends it from one of the site's pages. */
  post(p: string, fields: Record<string, string | Blob>, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }): ReturnType<Browser['go']> {
    const multipart = Object.values(fields).some((v) => typeof v !== 'string')
    let body: FormData | URLSearchParams
    if (multipart) {
      const f = new FormData()
      f.set('_csrf', this.token)
      for (const [k, v] of Object.entries(fields)) f.set(k, v as string)
      body = f
    } else body = new URLSearchParams({ _csrf: this.token, ...(fields as Record<string, string>) })
    return this.go(p, { method: 'POST', body, headers })
  }
  async signUp(username: string, password = `${username} password`): Promise<void> {
    await this.go('/register')
    const r = await this.post('/register', { username, email: `${username.toLowerCase()}@example.test`, password })
    assert.equal(r.status, 303, r.body)
    await this.go('/')
  }
}

const file = (bytes: Buffer | string, name: string, type: string): File => new File([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)], name, { type })

describe('examples/conduit pages: bad input and refusals (JavaScript off)', { timeout: 120_000 }, () => {
  let p: Spawned
  let url: string
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'carafe-conduit-pages-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('starts on an empty data folder, made and migrated, with the demo articles', async (t) => {
    p = spawnCli(t, ['run', 'examples/conduit/app.ts', '--port', '0', '--host', '127.0.0.1', '--log', 'off'], { CONDUIT_DATA_DIR: dir, CONDUIT_ADMIN_PASSWORD: 'the admin password', CONDUIT_LOGIN_LIMIT: '1000' })
    t.after(() => { p.child.kill('SIGTERM') })
    const m = await p.waitFor(/Serving HTTP on \S+ port (\d+)/, 20_000)
    url = `http://127.0.0.1:${m[1]}`
    const b = new Browser(url)
    const home = await b.go('/')
    assert.equal(home.status, 200)
    assert.match(home.body, /Welcome to Conduit/)
    assert.match(home.body, /Popular Tags/)
    assert.ok((await readdir(dir)).includes('conduit.db'))

    await t.test('sign up refuses blank, malformed, short and taken values with field messages (422)', async () => {
      const b = new Browser(url)
      await b.go('/register')
      let r = await b.post('/register', { username: '', email: '', password: '' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Username can&#39;t be blank/)
      assert.match(r.body, /Email can&#39;t be blank/)
      assert.match(r.body, /Password can&#39;t be blank/)
      r = await b.post('/register', { username: 'has space', email: 'not-an-email', password: 'short' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Username may hold only letters, digits/)
      assert.match(r.body, /Email is invalid/)
      assert.match(r.body, /Password is too short/)
      assert.match(r.body, /value="not-an-email"/, 'what was typed is kept')
      r = await b.post('/register', { username: 'ana', email: 'ana2@example.test', password: 'long enough' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Username has already been taken/)
    })

    await t.test('a username in another script works, in its profile URL too', async () => {
      const b = new Browser(url)
      await b.signUp('Zoë_李')
      const r = await b.go(`/profile/${encodeURIComponent('Zoë_李')}`)
      assert.equal(r.status, 200)
      assert.match(r.body, /<h1>Zoë_李<\/h1>/)
      assert.equal((await b.go('/profile/nobody-here')).status, 404)
    })

    await t.test('the editor refuses non-images by content (SVG, text named .png), blank and too-long fields; accepts a PNG', async () => {
      const b = new Browser(url)
      await b.signUp('writer')
      await b.go('/editor')
      const fields = { title: 'Pictures', description: 'd', body: 'b', tags: '' }
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
      let r = await b.post('/editor', { ...fields, image: file(svg, 'x.svg', 'image/svg+xml') })
      assert.equal(r.status, 422)
      assert.match(r.body, /Picture is not a PNG, JPEG, WebP or GIF image/)
      r = await b.post('/editor', { ...fields, image: file('just text', 'fake.png', 'image/png') })
      assert.equal(r.status, 422)
      assert.match(r.body, /Picture is not a PNG/)
      assert.deepEqual(await readdir(path.join(dir, 'uploads')).catch(() => []), [], 'nothing refused was kept')
      r = await b.post('/editor', { title: ' ', description: '', body: 'x'.repeat(100_001), tags: '' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Title can&#39;t be blank/)
      assert.match(r.body, /Body is too long/)
      r = await b.post('/editor', { ...fields, image: file(PNG, 'dot.gif', 'image/gif') })
      assert.equal(r.status, 303)
      const page = await b.go(r.location!)
      const src = /<img src="(\/uploads\/[0-9a-f]{32}\.png)" alt="picture"/.exec(page.body)
      assert.ok(src, 'named by content and kind, not by the name sent')
      const img = await fetch(url + src[1])
      assert.equal(img.status, 200)
      assert.equal(img.headers.get('content-type'), 'image/png')
      assert.deepEqual(Buffer.from(await img.arrayBuffer()), PNG)
    })

    await t.test('Markdown with <script>, javascript: links and event attributes is rendered harmless; a very long article is fine', async () => {
      const b = new Browser(url)
      await b.signUp('marky')
      await b.go('/editor')
      const body = `# Title\n\n<script>alert(1)</script>\n\n[a](javascript:alert(2)) [b](JAVASCRIPT:alert(3)) [c](data:text/html,<script>alert(4)</script>)\n\n<img src=x onerror=alert(5)> <a href="#" onclick="alert(6)">x</a>\n\n[ok](https://example.com/)\n\n${'A long paragraph. '.repeat(3500)}`
      const r = await b.post('/editor', { title: 'Harmless', description: 'xss', body, tags: 'a b' })
      assert.equal(r.status, 303)
      const page = await b.go(r.location!)
      assert.equal(page.status, 200)
      const content = /<div class="article-content">([^]*?)<\/div>\s*<ul class="tag-list">/.exec(page.body)![1]!
      assert.doesNotMatch(content, /<script/i)
      assert.doesNotMatch(content, /href="(javascript|data):/i)
      assert.doesNotMatch(content, /<[a-z][^>]*\son[a-z]+=/i, 'no element with an event attribute')
      assert.match(content, /&lt;img src=x onerror=alert\(5\)&gt;/, 'raw HTML is shown as text')
      assert.match(content, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
      assert.match(content, /<a href="https:\/\/example.com\/" rel="nofollow ugc noopener">ok<\/a>/)
      assert.ok(content.length > 60_000)
    })

    await t.test("a deleted article's old URL is a 404 page; only its author may delete or edit it (403)", async () => {
      const author = new Browser(url)
      await author.signUp('deleter')
      await author.go('/editor')
      const made = await author.post('/editor', { title: 'Short-lived', description: 'd', body: 'b', tags: '' })
      const at = made.location!
      const other = new Browser(url)
      await other.signUp('other')
      await other.go(at)
      let r = await other.post(`${at}/delete`, {})
      assert.equal(r.status, 403)
      assert.match(r.body, /Only its author can delete this article/)
      assert.equal((await other.go(`/editor/${at.split('/').pop()}`)).status, 403)
      await author.go(at)
      r = await author.post(`${at}/delete`, {})
      assert.equal(r.status, 303)
      r = await author.go(at)
      assert.equal(r.status, 404)
      assert.match(r.body, /Not found/)
      assert.match(r.body, /deleted/)
      assert.equal((await author.post(`${at}/comments`, { body: 'late' })).status, 404)
    })

    await t.test('cross-site and token-less posts are refused (403) and change nothing', async () => {
      const b = new Browser(url)
      await b.signUp('victim')
      const before = (await b.go('/article/welcome-to-conduit')).body.match(/class="card-text"/g)?.length ?? 0
      let r = await b.post('/article/welcome-to-conduit/comments', { body: 'forged' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })
      assert.equal(r.status, 403)
      r = await b.go('/article/welcome-to-conduit/comments', { method: 'POST', body: new URLSearchParams({ body: 'no token' }) })
      assert.equal(r.status, 403)
      assert.match(r.body, /CSRF token missing/)
      const afterwards = (await b.go('/article/welcome-to-conduit')).body.match(/class="card-text"/g)?.length ?? 0
      assert.equal(afterwards, before)
    })

    await t.test('settings refuse a javascript: picture URL and a taken email; a blank comment is refused with a message', async () => {
      const b = new Browser(url)
      await b.signUp('settler')
      await b.go('/settings')
      let r = await b.post('/settings', { username: 'settler', email: 'settler@example.test', bio: '', image: 'javascript:alert(1)', password: '' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Picture must be an http:\/\/ or https:\/\/ URL/)
      r = await b.post('/settings', { username: 'settler', email: 'ana@conduit.example', bio: '', image: '', password: '' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Email has already been taken/)
      r = await b.post('/settings', { username: 'settler2', email: 'settler@example.test', bio: 'Hi <b>there</b>', image: 'https://example.com/me.png', password: '' })
      assert.equal(r.status, 303)
      assert.equal(r.location, '/profile/settler2')
      const profile = await b.go('/profile/settler2')
      assert.match(profile.body, /Hi &lt;b&gt;there&lt;\/b&gt;/)
      assert.match(profile.body, /<img src="https:\/\/example.com\/me.png"/)
      await b.go('/article/welcome-to-conduit')
      r = await b.post('/article/welcome-to-conduit/comments', { body: '   ' })
      assert.equal(r.status, 303)
      assert.match((await b.go(r.location!.replace(/#.*/, ''))).body, /Your comment can&#39;t be blank/)
    })

    await t.test('pages that need a user send visitors to sign in; odd page numbers are a 400', async () => {
      const b = new Browser(url)
      let r = await b.go('/editor')
      assert.equal(r.status, 302)
      assert.equal(r.location, '/login?next=%2Feditor')
      r = await b.go('/?feed=following')
      assert.equal(r.status, 302)
      assert.match(r.location!, /^\/login\?next=/)
      assert.equal((await b.go('/?page=abc')).status, 400)
      assert.equal((await b.go('/?page=0')).status, 400)
      r = await b.go('/?page=999')
      assert.equal(r.status, 200)
      assert.match(r.body, /No articles are here/)
    })

    await t.test('following yourself is a 422 and stores nothing; an unknown user or article is a 404, for the live stream too', async () => {
      const b = new Browser(url)
      await b.signUp('narcissus')
      await b.go('/profile/narcissus')
      let r = await b.post('/profile/narcissus/follow', { on: '1' })
      assert.equal(r.status, 422)
      assert.match(r.body, /You cannot follow yourself/)
      r = await b.go('/profile/narcissus')
      assert.doesNotMatch(r.body, /Unfollow/)
      assert.equal((await b.post('/profile/nobody-at-all/follow', { on: '1' })).status, 404)
      assert.equal((await b.post('/article/no-such-article/favorite', { on: '1' })).status, 404)
      r = await b.go('/article/no-such-article/live?since=abc', { headers: { accept: 'text/event-stream' } })
      assert.equal(r.status, 404)
      const live = await fetch(`${url}/article/welcome-to-conduit/live?since=abc`, { headers: { accept: 'text/event-stream' } })
      assert.equal(live.status, 200, 'an odd since= is ignored, not a 500')
      assert.match(live.headers.get('content-type') ?? '', /^text\/event-stream/)
      await live.body?.cancel()
    })

    await t.test('a non-admin is refused at /admin; the admin gets in', async () => {
      const b = new Browser(url)
      await b.signUp('plain')
      assert.equal((await b.go('/admin/')).status, 403)
      const admin = new Browser(url)
      await admin.go('/login')
      const r = await admin.post('/login', { email: 'admin@conduit.example', password: 'the admin password' })
      assert.equal(r.status, 303)
      assert.equal((await admin.go('/admin/')).status, 200)
    })

    await t.test('sign-in: wrong password is a 401 with a message; after the limit, 429, and the site keeps serving', async (t) => {
      const own = await mkdtemp(path.join(tmpdir(), 'carafe-conduit-limit-'))
      t.after(() => rm(own, { recursive: true, force: true }))
      const q = spawnCli(t, ['run', 'examples/conduit/app.ts', '--port', '0', '--host', '127.0.0.1', '--log', 'off'], { CONDUIT_DATA_DIR: own, CONDUIT_DEMO: '0', CONDUIT_ADMIN_PASSWORD: 'the admin password', CONDUIT_LOGIN_LIMIT: '3' })
      t.after(() => { q.child.kill('SIGTERM') })
      const b = new Browser(`http://127.0.0.1:${(await q.waitFor(/Serving HTTP on \S+ port (\d+)/, 20_000))[1]}`)
      await b.go('/login')
      let r = await b.post('/login', { email: 'admin@conduit.example', password: 'wrong' })
      assert.equal(r.status, 401)
      assert.match(r.body, /Wrong email or password/)
      r = await b.post('/login', { email: '', password: '' })
      assert.equal(r.status, 422)
      assert.match(r.body, /Email can&#39;t be blank/)
      r = await b.post('/login', { email: 'admin@conduit.example', password: 'the admin password' })
      assert.equal(r.status, 303, 'the third try is still counted in')
      r = await b.post('/login', { email: 'admin@conduit.example', password: 'the admin password' })
      assert.equal(r.status, 429)
      assert.match(r.body, /Too many tries/)
      assert.equal((await b.go('/')).status, 200, 'the site keeps serving')
    })
  })
})
