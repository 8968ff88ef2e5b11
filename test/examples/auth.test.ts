import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawnCli, waitForServer } from '../helpers/spawn.js'
import { Jar } from '../helpers/jar.js'

/** A browser as far as this site needs one: a cookie jar, no redirects followed, and the CSRF token of the last form seen. */
class Browser {
  readonly jar = new Jar()
  readonly cookies = this.jar.cookies
  token = ''
  constructor(readonly url: string) {}

  async go(p: string, init: RequestInit = {}): Promise<{ res: Response; html: string }> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.jar.header())
    const res = await fetch(this.url + p, { redirect: 'manual', ...init, headers })
    this.jar.take(res)
    const html = await res.text()
    const m = /name="_csrf" value="([^"]+)"/.exec(html)
    if (m !== null) this.token = m[1]!
    return { res, html }
  }

  post(p: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ res: Response; html: string }> {
    return this.go(p, { method: 'POST', body: new URLSearchParams({ _csrf: this.token, ...fields }), headers })
  }
}

describe('examples/auth', () => {
  it('signs up, logs in and out, guards the profile and the admin page, flashes, refuses CSRF, remembers, and logs other sessions out on a password change', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-auth-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const p = spawnCli(t, ['run', 'examples/auth/app.ts', '--port', '0', '--host', '127.0.0.1'], { AUTH_DATA_DIR: dir })
    const url = await waitForServer(p)

    const admin = new Browser(url)
    let { res, html } = await admin.go('/')
    assert.equal(res.status, 200)
    assert.match(html, /Sign up<\/a>/)
    assert.deepEqual(res.headers.getSetCookie(), [], 'a visitor gets no session cookie')

    // The profile needs a login: the browser is sent to the login page with next=.
    ;({ res } = await admin.go('/profile', { headers: { accept: 'text/html' } }))
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), '/login?next=%2Fprofile')

    // A form posted from another site is refused, and nothing is created.
    await admin.go('/signup')
    assert.notEqual(admin.token, '')
    ;({ res, html } = await admin.post('/signup', { email: 'ann@example.com', name: 'Ann', password: 'correct horse' }, { origin: 'https://evil.example' }))
    assert.equal(res.status, 403)
    assert.match(html, /cross-origin request refused/)
    // Without its token (and no Origin to go by), too.
    ;({ res } = await admin.go('/signup', { method: 'POST', body: new URLSearchParams({ email: 'ann@example.com', name: 'Ann', password: 'correct horse' }) }))
    assert.equal(res.status, 403)

    // Sign-up: the first account is the admin; the welcome is flashed on the next page, once.
    ;({ res } = await admin.post('/signup', { email: 'ann@example.com', name: 'Ann', password: 'correct horse' }))
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/profile')
    ;({ res, html } = await admin.go('/profile'))
    assert.equal(res.status, 200)
    assert.match(html, /<h1>Ann<\/h1>/)
    assert.match(html, /class="flash success">Welcome, Ann!/)
    assert.match(html, /href="\/admin">Admin/)
    ;({ html } = await admin.go('/profile'))
    assert.doesNotMatch(html, /Welcome, Ann!/, 'a flashed message shows once')
    ;({ res, html } = await admin.go('/admin'))
    assert.equal(res.status, 200)
    assert.match(html, /ann@example\.com/)

    // A second account is not an admin.
    const bob = new Browser(url)
    await bob.go('/signup')
    ;({ res } = await bob.post('/signup', { email: 'bob@example.com', name: 'Bob', password: 'battery staple' }))
    assert.equal(res.status, 303)
    ;({ res } = await bob.go('/admin', { headers: { accept: 'text/html' } }))
    assert.equal(res.status, 403)

    // Logout ends the session on the server: the old cookie, replayed, is not logged in.
    const bobCookie = bob.cookies.get('sid')!
    await bob.go('/profile')
    ;({ res } = await bob.post('/logout', {}))
    assert.equal(res.status, 303)
    ;({ res } = await bob.go('/profile', { headers: { accept: 'text/html', cookie: `sid=${bobCookie}` } }))
    assert.equal(res.status, 302)

    // A wrong password and an unknown email get the same answer.
    await bob.go('/login')
    ;({ res, html } = await bob.post('/login', { email: 'bob@example.com', password: 'nope nope' }))
    assert.equal(res.status, 401)
    assert.match(html, /Wrong email or password/)
    await bob.go('/login')
    ;({ res, html } = await bob.post('/login', { email: 'nobody@example.com', password: 'nope nope' }))
    assert.equal(res.status, 401)
    assert.match(html, /Wrong email or password/)

    // Login with remember-me, and next= taken only when it is a path on this site.
    await bob.go('/login?next=/profile')
    ;({ res } = await bob.post('/login', { email: 'bob@example.com', password: 'battery staple', remember: 'on', next: '//evil.example' }))
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/profile')
    const names = [...bob.cookies.keys()]
    assert.equal(names.length, 2, `a session and a remember-me cookie: ${names.join(', ')}`)
    // The browser restarts: its session cookie is gone, the remember-me cookie logs it in again.
    bob.cookies.delete('sid')
    ;({ res, html } = await bob.go('/profile'))
    assert.equal(res.status, 200)
    assert.match(html, /<h1>Bob<\/h1>/)

    // Bob on a second machine; changing the password on the first signs the second out.
    const laptop = new Browser(url)
    await laptop.go('/login')
    ;({ res } = await laptop.post('/login', { email: 'bob@example.com', password: 'battery staple' }))
    assert.equal(res.status, 303)
    assert.equal((await laptop.go('/profile')).res.status, 200)
    ;({ res } = await bob.post('/profile/password', { current: 'battery staple', password: 'new long password' }))
    assert.equal(res.status, 303)
    ;({ res, html } = await bob.go('/profile'))
    assert.equal(res.status, 200, 'the session that changed the password stays')
    assert.match(html, /your other sessions were signed out/)
    ;({ res } = await laptop.go('/profile', { headers: { accept: 'text/html' } }))
    assert.equal(res.status, 302, 'the other session is signed out')
  })
})
