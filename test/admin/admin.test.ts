import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { site, seed, submit, ADMIN, STAFF, SECRET, type User } from './helpers.js'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { auth, csrf } from '../../src/auth/index.js'
import { database } from '../../src/db/index.js'
import { admin } from '../../src/admin/index.js'
import { testClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'
import { captureErrors } from '../helpers/capture.js'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const HTML = { headers: { accept: 'text/html' } }

describe('admin(): who may see it', () => {
  it('sends a visitor to the login page, refuses a user without the role with 403, and shows the dashboard to an admin', async (t) => {
    const s = await site(t)
    await seed(s, true, 3)
    const anon = await s.client().get('/admin/?x=1', HTML)
    assert.equal(anon.status, 302)
    assert.equal(anon.headers.get('location'), '/login?next=%2Fadmin%2F%3Fx%3D1')
    assert.equal((await (await s.as(STAFF)).get('/admin/', HTML)).status, 403)
    assert.equal((await (await s.as(STAFF)).get(`/admin/${s.notes}`, HTML)).status, 403)
    const res = await (await s.as(ADMIN)).get('/admin/', HTML)
    assert.equal(res.status, 200)
    const html = await res.text()
    assert.match(html, /<title>Test admin<\/title>/)
    assert.match(html, new RegExp(`href="/admin/${s.notes}">Notes</a></td><td data-label="Rows" class="num">3</td>`))
    assert.match(html, new RegExp(`href="/admin/${s.users}">Users</a></td><td data-label="Rows" class="num">2</td>`))
    assert.match(html, /No changes yet/)
    assert.match(html, /@media \(max-width:640px\)/, 'the embedded stylesheet stacks tables on a phone')
  })

  it('refuses to serve when the parent app has no csrf(): a 500 with ERR_ADMIN_NO_CSRF logged', async (t) => {
    const s = await site(t, { csrf: false })
    const client = await s.as(ADMIN)
    const { value: res, logged } = await captureErrors(() => client.get('/admin/', HTML))
    assert.equal(res.status, 500)
    assert.match(logged, /ERR_ADMIN_NO_CSRF|admin\(\) needs CSRF protection/)
  })

  it('checks the config against the database: an unknown column is a clear ERR_ADMIN_CONFIG', async (t) => {
    const s = await site(t, { tables: ({ notes }) => ({ [notes]: { list: ['title', 'nope'] } }) })
    const client = await s.as(ADMIN)
    const { value: res, logged } = await captureErrors(() => client.get('/admin/', HTML))
    assert.equal(res.status, 500)
    assert.match(logged, /names "nope", which is not a column/)
  })
})

describe('admin(): options', () => {
  it('takes another role and another way to name the user in the history', async (t) => {
    const s = await site(t, { admin: { role: 'staff', userId: (u) => (u as { email: string }).email } })
    await seed(s, true, 1)
    assert.equal((await (await s.as(ADMIN)).get('/admin/', HTML)).status, 403)
    const c = await s.as(STAFF)
    assert.equal((await c.get('/admin/', HTML)).status, 200)
    assert.equal((await submit(c, `/admin/${s.notes}/1/delete`, `/admin/${s.notes}/1/delete`, {})).status, 303)
    assert.match(await (await c.get('/admin/', HTML)).text(), /<td data-label="Who">bob@example.com<\/td>/)
  })

  it('answers 503 with Retry-After when the database is unreachable', async (t) => {
    const app = new Carafe({ secrets: [SECRET] })
    app.use(session())
    app.use(csrf())
    app.use(auth({ loadUser: (id) => (Number(id) === ADMIN.id ? ADMIN : undefined), roles: (u) => (u as User).roles }))
    const db = database<unknown>('postgres://postgres@127.0.0.1:1/test', { acquireTimeout: 1000 })
    t.after(() => db.close())
    app.mount('/admin', admin({ db, tables: { notes: true } }))
    const srv = await serve(t, app)
    const c = testClient(app, { origin: srv.url, fetch: (r) => fetch(r) })
    await c.loginAs(ADMIN)
    const { value: res } = await captureErrors(() => c.get('/admin/', HTML))
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '5')
  })
})

describe('admin(): list pages', () => {
  it('searches, filters, sorts on listed columns and pages', async (t) => {
    const s = await site(t)
    await seed(s, true, 25)
    const c = await s.as(ADMIN)
    const titles = async (query: string): Promise<string[]> => {
      const res = await c.get(`/admin/${s.notes}${query}`, HTML)
      const html = await res.text()
      assert.equal(res.status, 200, html.slice(0, 400))
      return [...html.matchAll(/href="\/admin\/notes_[^/"]+\/\d+">([^<]*)<\/a>/g)].map((m) => m[1]!)
    }
    // Default: newest first, 10 a page (perPage), pages capped by the count.
    assert.deepEqual(await titles(''), Array.from({ length: 10 }, (_, i) => `Note ${String(25 - i).padStart(2, '0')}${(25 - i) % 5 === 0 ? ' apple' : ''}`))
    assert.equal((await titles('?page=3')).length, 5)
    assert.equal((await titles('?page=99')).length, 5, 'a page past the end shows the last page')
    assert.deepEqual(await titles('?q=APPLE'), ['Note 25 apple', 'Note 20 apple', 'Note 15 apple', 'Note 10 apple', 'Note 05 apple'])
    assert.deepEqual(await titles('?q=body+of+7'), ['Note 07'], 'search covers every search column')
    assert.deepEqual(await titles('?q=%25'), [], '% is a literal character, not a wildcard')
    assert.deepEqual(await titles('?q=_'), [], '_ is a literal character too')
    assert.deepEqual((await titles('?author_id=2&sort=title')).slice(0, 3), ['Note 02', 'Note 04', 'Note 06'])
    assert.deepEqual((await titles('?sort=-title')).slice(0, 2), ['Note 25 apple', 'Note 24'])
    assert.deepEqual((await titles('?sort=title&page=2'))[0], 'Note 11')
    assert.equal((await titles('?author_id=1&q=apple')).length, 3)
    const html = await (await c.get(`/admin/${s.notes}?sort=title`, HTML)).text()
    assert.match(html, /Title ▲/)
    assert.match(html, /rel="next"/)
    assert.match(html, /<option value="2">2<\/option>/, 'the filter offers the values in the column')
  })

  it('answers 400 for anything but listed sort columns, declared filters and sane pages, and changes nothing', async (t) => {
    const s = await site(t)
    await seed(s, true, 3)
    const c = await s.as(ADMIN)
    const bad = [
      '?sort=body', '?sort=nope', "?sort=title;drop table x", "?sort=title'--", '?sort=-', '?sort=id%20desc',
      '?body=x', "?title'=1", '?author_id=1%20or%201=1', "?author_id=1';delete from x;--",
      '?page=0', '?page=-1', '?page=abc', '?page=1e3', `?q=${'x'.repeat(201)}`,
    ]
    for (const q of bad) {
      const res = await c.get(`/admin/${s.notes}${q}`, HTML)
      assert.equal(res.status, 400, q)
    }
    for (const q of ["?q=';drop table x;--", '?q=" or 1=1 --', "?q=%27%29%20or%20%28%271%27%3D%271"]) {
      const res = await c.get(`/admin/${s.notes}${q}`, HTML)
      assert.equal(res.status, 200, q)
      assert.match(await res.text(), /Nothing here for this search/)
    }
    assert.equal(await s.count(s.notes), 3)
    assert.equal(await s.count(s.users), 2)
    // Only configured tables: SQLite's own catalogue and the history table are not pages.
    for (const p of ['/admin/sqlite_master', `/admin/${s.history}`, '/admin/nope', `/admin/${s.notes}%3B`]) {
      assert.equal((await c.get(p, HTML)).status, 404, p)
    }
  })
})

describe('admin(): URLs', () => {
  it('sends /admin and /<table>/ to the canonical pages', async (t) => {
    const s = await site(t)
    const c = await s.as(ADMIN)
    assert.equal((await c.get('/admin', HTML)).status, 200)
    const res = await c.get(`/admin/${s.notes}/`, HTML)
    assert.equal(res.status, 308)
    assert.equal(res.headers.get('location'), `/admin/${s.notes}`)
    assert.equal((await c.get('/admin/nope/', HTML)).status, 404)
  })
})

describe('carafe/admin package', () => {
  it('ships its templates: the build copies them into dist, and package.json exports ./admin', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url))
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, { default: string }>; files: string[]; scripts: { build: string } }
    assert.equal(pkg.exports['./admin']?.default, './dist/admin/index.js')
    assert.ok(pkg.files.includes('dist'))
    assert.match(pkg.scripts.build, /src\/admin\/templates/)
    for (const name of ['base', 'dashboard', 'list', 'form', 'delete', 'history']) {
      assert.ok(existsSync(`${root}dist/admin/templates/admin/${name}.html`), `dist/admin/templates/admin/${name}.html (run npm run build)`)
    }
  })
})
