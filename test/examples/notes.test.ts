import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawnCli, waitForServer } from '../helpers/spawn.js'
import { Jar } from '../helpers/jar.js'

describe('examples/notes', () => {
  it('migrates on a fresh SQLite file, serves the notes as JSON and HTML, lets the admin sign in, write through CSRF-protected forms and use the admin', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-notes-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const p = spawnCli(t, ['run', 'examples/notes/app.ts', '--port', '0', '--host', '127.0.0.1'], { NOTES_DATA_DIR: dir, NOTES_ADMIN_PASSWORD: 'admin password 1' })
    const url = await waitForServer(p)
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.db')).sort(), ['notes.db', 'sessions.db'])

    const jar = new Jar()
    let token = ''
    const go = async (p: string, init: RequestInit = {}): Promise<{ res: Response; body: string }> => {
      const headers = new Headers(init.headers)
      if (jar.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', jar.header())
      const res = await fetch(url + p, { redirect: 'manual', ...init, headers })
      jar.take(res)
      const body = await res.text()
      const m = /name="_csrf" value="([^"]+)"/.exec(body)
      if (m !== null) token = m[1]!
      return { res, body }
    }
    const post = (p: string, fields: Record<string, string>, headers: Record<string, string> = {}) => go(p, { method: 'POST', body: new URLSearchParams({ _csrf: token, ...fields }), headers })

    let { res, body } = await go('/notes', { headers: { accept: 'application/json' } })
    assert.equal(res.status, 200)
    assert.deepEqual(JSON.parse(body), { items: [], page: 1, limit: 20, total: 0, pages: 1 })

    // Writing needs a login; the admin pages too.
    // (Sec-Fetch-Site: same-origin, as a browser's fetch() sends it, passes CSRF; the login check answers.)
    ;({ res } = await go('/notes', { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, body: JSON.stringify({ title: 'x' }) }))
    assert.equal(res.status, 401)
    ;({ res } = await go('/admin/', { headers: { accept: 'text/html' } }))
    assert.equal(res.status, 302)
    assert.match(res.headers.get('location') ?? '', /^\/login\?next=/)

    await go('/login')
    ;({ res } = await post('/login', { email: 'admin@example.com', password: 'wrong' }))
    assert.equal(res.status, 401)
    await go('/login')
    ;({ res } = await post('/login', { email: 'admin@example.com', password: 'admin password 1' }))
    assert.equal(res.status, 303)

    // A note through the HTML form (CSRF token), refused without it.
    await go('/notes/new')
    assert.notEqual(token, '')
    ;({ res } = await go('/notes', { method: 'POST', body: new URLSearchParams({ title: 'Forged', body: '' }), headers: { origin: 'https://evil.example' } }))
    assert.equal(res.status, 403)
    ;({ res } = await post('/notes', { title: 'First <note>', body: 'hello' }))
    assert.equal(res.status, 303)
    const location = res.headers.get('location')!
    ;({ res, body } = await go(location))
    assert.equal(res.status, 200)
    assert.match(body, /First &lt;note&gt;/)

    // Validation: 422 and the form again; a duplicate title: 409.
    await go('/notes/new')
    ;({ res, body } = await post('/notes', { title: '', body: '' }))
    assert.equal(res.status, 422)
    assert.match(body, /can(&#39;|')t be blank/)
    await go('/notes/new')
    ;({ res } = await post('/notes', { title: 'First <note>', body: 'again' }))
    assert.equal(res.status, 409)

    // The JSON API sees it; the admin lists it.
    ;({ body } = await go('/notes?q=First', { headers: { accept: 'application/json' } }))
    const list = JSON.parse(body) as { items: Array<{ title: string }>; total: number }
    assert.equal(list.total, 1)
    assert.equal(list.items[0]!.title, 'First <note>')
    ;({ res, body } = await go('/admin/'))
    assert.equal(res.status, 200)
    assert.match(body, /notes/)
    ;({ res, body } = await go('/admin/notes'))
    assert.equal(res.status, 200)
    assert.match(body, /First &lt;note&gt;/)
    // An injected sort column is a 400, and the table is unchanged.
    ;({ res } = await go('/notes?sort=id;drop%20table%20notes', { headers: { accept: 'application/json' } }))
    assert.equal(res.status, 400)
    ;({ body } = await go('/notes', { headers: { accept: 'application/json' } }))
    assert.equal((JSON.parse(body) as { total: number }).total, 1)
  })
})
