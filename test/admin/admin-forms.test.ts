import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from '../../src/db/index.js'
import { site, seed, submit, tokenIn, ADMIN } from './helpers.js'

const HTML = { headers: { accept: 'text/html' } }

describe('admin(): create, edit, delete', () => {
  it('creates a row from a form made from the column types, only with the CSRF token, and records who did it', async (t) => {
    const s = await site(t)
    await seed(s)
    const c = await s.as(ADMIN)
    const form = await (await c.get(`/admin/${s.notes}/add`, HTML)).text()
    // Widgets by type: text, textarea for long text, select for the foreign key, checkbox, date, datetime, number.
    assert.match(form, /<input type="text" id="f-title" name="title"/)
    assert.match(form, /<textarea id="f-body" name="body">/)
    assert.match(form, /<select id="f-author_id" name="author_id"><option value="">—<\/option><option value="1">ann@example.com \(1\)<\/option><option value="2">bob@example.com \(2\)<\/option>/)
    assert.match(form, /<input type="checkbox" id="f-published" name="published" value="1">/)
    assert.match(form, /<input type="date" id="f-due" name="due"/)
    assert.match(form, /<input type="datetime-local" step="1" id="f-created_at" name="created_at"/)
    assert.match(form, /<input type="number" step="any" id="f-rating" name="rating"/)
    assert.doesNotMatch(form, /name="id"/, 'a generated key is not a field')
    const fields = { title: 'Hello <b>admin</b>', body: 'First', author_id: '2', published: '1', due: '2026-12-24', rating: '4.5', created_at: '' }

    // Refused from another site, and without the token: nothing is stored.
    let res = await c.post(`/admin/${s.notes}/add`, { form: { ...fields, _csrf: tokenIn(form) }, headers: { accept: 'text/html', origin: 'https://evil.example' } })
    assert.equal(res.status, 403)
    res = await c.post(`/admin/${s.notes}/add`, { form: fields, headers: { accept: 'text/html' } })
    assert.equal(res.status, 403)
    res = await c.post(`/admin/${s.notes}/add`, { form: { ...fields, _csrf: 'forged' }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 403)
    assert.equal(await s.count(s.notes), 0)

    res = await c.post(`/admin/${s.notes}/add`, { form: { ...fields, _csrf: tokenIn(form) }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 303, await res.clone().text())
    assert.equal(res.headers.get('location'), `/admin/${s.notes}/1`)
    const row = (await sql<Record<string, unknown>>`select * from ${sql.table(s.notes)}`.execute(s.db.open(s.root))).rows[0]!
    assert.equal(row.title, 'Hello <b>admin</b>')
    assert.equal(row.author_id, 2)
    assert.equal(row.published, 1)
    assert.equal(row.due, '2026-12-24')
    assert.equal(row.rating, 4.5)
    assert.match(String(row.created_at), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'an empty field with a default keeps the default')

    // The edit page flashes once, escapes the stored HTML, and shows the history entry.
    const edit = await (await c.get(`/admin/${s.notes}/1`, HTML)).text()
    assert.match(edit, /class="flash success" role="status">Added Notes 1\.</)
    assert.match(edit, /value="Hello &lt;b&gt;admin&lt;\/b&gt;"/)
    assert.match(edit, /<td data-label="Who">1<\/td>/)
    assert.match(edit, /<td data-label="What">create/)
    assert.match(edit, /<b>title<\/b>: &quot;Hello &lt;b&gt;admin&lt;\/b&gt;&quot;/)
    assert.doesNotMatch(await (await c.get(`/admin/${s.notes}/1`, HTML)).text(), /Added Notes 1/, 'a flash shows once')
    const list = await (await c.get(`/admin/${s.notes}`, HTML)).text()
    assert.match(list, />Hello &lt;b&gt;admin&lt;\/b&gt;<\/a>/, 'stored HTML is escaped on the list')
    assert.doesNotMatch(list, /<b>admin<\/b>/)
    const log = (await sql<Record<string, unknown>>`select * from ${sql.table(s.history)}`.execute(s.db.open(s.root))).rows
    assert.equal(log.length, 1)
    assert.equal(log[0]!.user_id, '1')
    assert.equal(log[0]!.table_name, s.notes)
    assert.equal(log[0]!.row_id, '1')
    assert.equal(log[0]!.action, 'create')
    assert.ok(Math.abs(Date.parse(String(log[0]!.at)) - Date.now()) < 60_000, 'when: now')
    assert.deepEqual(JSON.parse(String(log[0]!.changes)).title, [null, 'Hello <b>admin</b>'])
  })

  it('re-renders the form with the messages and the values sent: 422 for invalid fields, 409 for a unique value', async (t) => {
    const s = await site(t)
    await seed(s)
    const c = await s.as(ADMIN)
    let res = await submit(c, `/admin/${s.notes}/add`, `/admin/${s.notes}/add`, { title: '  ', body: 'kept text', rating: 'lots', due: '24/12/2026', author_id: '1 or 1=1' })
    assert.equal(res.status, 422)
    let html = await res.text()
    assert.match(html, /Please correct the errors below/)
    assert.match(html, /id="e-title">This field is required\./)
    assert.match(html, /id="e-rating">Enter a number\./)
    assert.match(html, /id="e-due">Enter a date \(YYYY-MM-DD\)\./)
    assert.match(html, /id="e-author_id">Choose one of the options\./)
    assert.match(html, /<textarea id="f-body" name="body">kept text<\/textarea>/)
    assert.match(html, /name="_csrf"/, 'the re-rendered form can be sent again')
    assert.equal(await s.count(s.notes), 0)

    res = await submit(c, `/admin/${s.users}/add`, `/admin/${s.users}/add`, { email: 'ann@example.com', name: 'Another Ann' })
    assert.equal(res.status, 409)
    html = await res.text()
    assert.match(html, /class="flash error" role="alert">that conflicts with what is stored: a row with the same unique value already exists/)
    assert.match(html, /value="Another Ann"/)
    assert.equal(await s.count(s.users), 2)
    assert.equal(await s.count(s.history), 0, 'nothing was logged for a change that did not happen')

    // The same on edit: a unique clash is a 409 and the row keeps its value.
    res = await submit(c, `/admin/${s.users}/2`, `/admin/${s.users}/2`, { email: 'ann@example.com', name: 'Bob' })
    assert.equal(res.status, 409)
    const bob = (await sql<{ email: string }>`select email from ${sql.table(s.users)} where id = 2`.execute(s.db.open(s.root))).rows[0]!
    assert.equal(bob.email, 'bob@example.com')
  })

  it('edits a row, logs only the fields that changed, and shows the change on the row and the dashboard', async (t) => {
    const s = await site(t)
    await seed(s, true, 1)
    const c = await s.as(ADMIN)
    const page = await (await c.get(`/admin/${s.notes}/1`, HTML)).text()
    assert.match(page, /value="Note 01"/)
    assert.match(page, /<option value="1" selected>/)
    const created = /name="created_at" value="([^"]*)"/.exec(page)![1]!
    let res = await c.post(`/admin/${s.notes}/1`, { form: { _csrf: tokenIn(page), title: 'Renamed', body: 'body of 1', author_id: '1', due: '', rating: '', created_at: created }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), `/admin/${s.notes}/1`)
    const log = (await sql<Record<string, unknown>>`select * from ${sql.table(s.history)}`.execute(s.db.open(s.root))).rows
    assert.equal(log.length, 1)
    assert.equal(log[0]!.action, 'update')
    assert.deepEqual(JSON.parse(String(log[0]!.changes)), { title: ['Note 01', 'Renamed'] })
    const edit = await (await c.get(`/admin/${s.notes}/1`, HTML)).text()
    assert.match(edit, /Saved Notes 1/)
    assert.match(edit, /<b>title<\/b>: &quot;Note 01&quot; → &quot;Renamed&quot;/)
    const dash = await (await c.get('/admin/', HTML)).text()
    assert.match(dash, new RegExp(`update <a href="/admin/${s.notes}/1">${s.notes} 1</a>`))
    // The same form again: nothing changed, nothing logged.
    res = await submit(c, `/admin/${s.notes}/1`, `/admin/${s.notes}/1`, { title: 'Renamed', body: 'body of 1', author_id: '1', due: '', rating: '', created_at: created })
    assert.equal(res.status, 303)
    assert.equal(await s.count(s.history), 1)
    // A key that is not the key's type, or no such row: 404, for GET and POST.
    for (const id of ['abc', '1%20or%201=1', "1'", '1;', '99']) {
      assert.equal((await c.get(`/admin/${s.notes}/${id}`, HTML)).status, 404, id)
      assert.equal((await submit(c, `/admin/${s.notes}/1`, `/admin/${s.notes}/${id}`, { title: 'x' })).status, 404, id)
      assert.equal((await c.get(`/admin/${s.notes}/${id}/delete`, HTML)).status, 404, id)
    }
    assert.equal(((await sql<{ title: string }>`select title from ${sql.table(s.notes)}`.execute(s.db.open(s.root))).rows[0]!).title, 'Renamed')
  })

  it('deletes after a confirmation page; a row other rows refer to is a 409 on the confirmation page', async (t) => {
    const s = await site(t)
    await seed(s, true, 2)
    const c = await s.as(ADMIN)
    const confirm = await (await c.get(`/admin/${s.notes}/1/delete`, HTML)).text()
    assert.match(confirm, /Delete Notes 1\?/)
    assert.match(confirm, /<dt>title<\/dt><dd>Note 01<\/dd>/)
    let res = await c.post(`/admin/${s.notes}/1/delete`, { headers: { accept: 'text/html', origin: 'https://evil.example' }, form: { _csrf: tokenIn(confirm) } })
    assert.equal(res.status, 403)
    assert.equal(await s.count(s.notes), 2)
    res = await c.post(`/admin/${s.notes}/1/delete`, { headers: { accept: 'text/html' }, form: { _csrf: tokenIn(confirm) } })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), `/admin/${s.notes}`)
    assert.equal(await s.count(s.notes), 1)
    const list = await (await c.get(`/admin/${s.notes}`, HTML)).text()
    assert.match(list, /Deleted Notes 1\./)
    const log = (await sql<Record<string, unknown>>`select * from ${sql.table(s.history)}`.execute(s.db.open(s.root))).rows
    assert.equal(log[0]!.action, 'delete')
    assert.equal(JSON.parse(String(log[0]!.changes)).title[0], 'Note 01')

    // Bob (user 2) still has note 2: deleting him breaks the foreign key.
    res = await submit(c, `/admin/${s.users}/2/delete`, `/admin/${s.users}/2/delete`, {})
    assert.equal(res.status, 409)
    assert.match(await res.text(), /refers to a row that does not exist, or other rows refer to it/)
    assert.equal(await s.count(s.users), 2)
  })

  it('bulk-deletes the checked rows in one POST with the token, each logged; a bad id deletes nothing', async (t) => {
    const s = await site(t)
    await seed(s, true, 6)
    const c = await s.as(ADMIN)
    const list = await (await c.get(`/admin/${s.notes}`, HTML)).text()
    assert.match(list, /<input type="checkbox" name="ids" value="6"/)
    let res = await c.post(`/admin/${s.notes}`, { form: { ids: ['1', '2', '3'] }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 403, 'no token')
    res = await c.post(`/admin/${s.notes}`, { form: { ids: ['1', "2'); drop table x; --"], _csrf: tokenIn(list) }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 400)
    assert.equal(await s.count(s.notes), 6)
    res = await c.post(`/admin/${s.notes}`, { form: { ids: ['1', '2', '3', '99'], _csrf: tokenIn(list) }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 303)
    assert.equal(await s.count(s.notes), 3)
    assert.match(await (await c.get(`/admin/${s.notes}`, HTML)).text(), /Deleted 3 rows from Notes\./)
    const log = (await sql<{ row_id: string; action: string }>`select row_id, action from ${sql.table(s.history)} order by id`.execute(s.db.open(s.root))).rows
    assert.deepEqual(log.map((r) => `${r.action} ${r.row_id}`), ['delete 1', 'delete 2', 'delete 3'])
    res = await c.post(`/admin/${s.notes}`, { form: { _csrf: tokenIn(list) }, headers: { accept: 'text/html' } })
    assert.equal(res.status, 303)
    assert.match(await (await c.get(`/admin/${s.notes}`, HTML)).text(), /Select the rows to delete first/)
  })
})

describe('admin(): templates', () => {
  it("uses the app's templates/admin/<name> in place of the built-in one", async (t) => {
    const s = await site(t, { files: { 'templates/admin/dashboard.html': '{% extends "admin/base.html" %}{% block content %}<p id="mine">My dashboard: {% for t in counts %}{{ t.label }}={{ t.count }};{% endfor %}</p>{% endblock %}' } })
    await seed(s, true, 2)
    const c = await s.as(ADMIN)
    const html = await (await c.get('/admin/', HTML)).text()
    assert.match(html, /<p id="mine">My dashboard: Notes=2;Users=2;<\/p>/)
    assert.match(html, /<header>/, 'the built-in base is still used')
    assert.match(await (await c.get(`/admin/${s.notes}`, HTML)).text(), /Note 01/, 'the other pages stay built-in')
  })
})
