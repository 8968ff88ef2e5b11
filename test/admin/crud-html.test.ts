import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { testClient } from '../../src/testing/client.js'
import { captureErrors } from '../helpers/capture.js'
import { setup, seed, HTML_H, JSON_H, csrfOf, ALICE } from './crud-helpers.js'

describe('crud() HTML pages', () => {
  it('lists with search and pages, shows a row, creates and edits through forms, deletes after confirming', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 7)
    const list = await s.alice.get('/notes', { headers: HTML_H })
    assert.equal(list.status, 200)
    assert.match(list.headers.get('content-type')!, /text\/html/)
    const html = await list.text()
    assert.match(html, /note 01/)
    assert.doesNotMatch(html, /note 06/)
    assert.match(html, /Page 1 of 2 \(7 in all\)/)
    assert.match(html, /href="\/notes\?page=2"/)
    const searched = await (await s.alice.get('/notes?q=even&page=1', { headers: HTML_H })).text()
    assert.match(searched, /note 02/)
    assert.doesNotMatch(searched, /note 01/)
    assert.match(searched, /value="even"/)

    const [first] = await s.k.selectFrom('notes').selectAll().orderBy('id').execute()
    const detail = await (await s.alice.get(`/notes/${first.id}`, { headers: HTML_H })).text()
    assert.match(detail, /note 01/)
    assert.match(detail, new RegExp(`href="/notes/${first.id}/edit"`))

    const form = await (await s.alice.get('/notes/new', { headers: HTML_H })).text()
    assert.match(form, /<form method="post" action="\/notes">/)
    assert.match(form, /name="title"/)
    assert.match(form, /type="checkbox" name="done"/)
    assert.match(form, /type="number" name="votes"/)
    const made = await s.alice.post('/notes', { headers: HTML_H, form: { _csrf: csrfOf(form), title: 'from a form', votes: '4', done: 'on', author_id: '1', body: '' } })
    assert.equal(made.status, 303)
    const row = await s.k.selectFrom('notes').selectAll().where('title', '=', 'from a form').executeTakeFirstOrThrow()
    assert.deepEqual([row.votes, row.done, row.author_id, row.body], [4, 1, 1, ''])
    assert.equal(made.headers.get('location'), `/notes/${row.id}`)
    assert.match(await (await s.alice.get(made.headers.get('location')!, { headers: HTML_H })).text(), /class="flash">notes created\./)

    const edit = await (await s.alice.get(`/notes/${row.id}/edit`, { headers: HTML_H })).text()
    assert.match(edit, new RegExp(`action="/notes/${row.id}"`))
    assert.match(edit, /value="from a form"/)
    assert.match(edit, /name="done" value="on" checked/)
    const saved = await s.alice.post(`/notes/${row.id}`, { headers: HTML_H, form: { _csrf: csrfOf(edit), title: 'edited', votes: '5', author_id: '1' } })
    assert.equal(saved.status, 303)
    const after = await s.k.selectFrom('notes').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()
    assert.deepEqual([after.title, after.votes, after.done], ['edited', 5, 0])

    const confirm = await s.alice.get(`/notes/${row.id}/delete`, { headers: HTML_H })
    assert.equal(confirm.status, 200)
    const confirmHtml = await confirm.text()
    assert.match(confirmHtml, new RegExp(`<form method="post" action="/notes/${row.id}/delete"`))
    assert.equal((await s.k.selectFrom('notes').selectAll().where('id', '=', row.id).execute()).length, 1)
    const gone = await s.alice.post(`/notes/${row.id}/delete`, { headers: HTML_H, form: { _csrf: csrfOf(confirmHtml) } })
    assert.equal(gone.status, 303)
    assert.equal(gone.headers.get('location'), '/notes')
    assert.equal((await s.k.selectFrom('notes').selectAll().where('id', '=', row.id).execute()).length, 0)
  })

  it('re-renders the form with the errors and the values sent (422), storing nothing', async (t) => {
    const s = await setup(t)
    const res = await s.alice.post('/notes', { headers: HTML_H, form: { title: '', votes: 'lots', body: '<script>x</script>' } })
    assert.equal(res.status, 422)
    const html = await res.text()
    assert.match(html, /can&#39;t be blank/)
    assert.match(html, /name="votes" value="lots"/)
    assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/)
    assert.doesNotMatch(html, /<script>x/)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 0)
  })

  it('re-renders the form with the conflict (409) for a duplicate', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 1)
    const res = await s.alice.post('/notes', { headers: HTML_H, form: { title: 'note 01' } })
    assert.equal(res.status, 409)
    const html = await res.text()
    assert.match(html, /class="error" role="alert">[^<]*unique/)
    assert.match(html, /value="note 01"/)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 1)
  })

  it('answers 404 pages for missing rows', async (t) => {
    const s = await setup(t)
    for (const p of ['/notes/12', '/notes/12/edit', '/notes/12/delete', '/notes/x%27/edit']) assert.equal((await s.alice.get(p, { headers: HTML_H })).status, 404, p)
  })

  it('uses a template of the same name in the app\'s templates/ folder', async (t) => {
    const s = await setup(t, { templates: { 'crud/list.html': 'override: {{ resource.title }} has {{ pagination.total }} rows' } })
    await seed(s.k, 'notes', 3)
    assert.equal(await (await s.alice.get('/notes', { headers: HTML_H })).text(), 'override: notes has 3 rows')
    // The pages not overridden keep the defaults.
    assert.match(await (await s.alice.get('/notes/new', { headers: HTML_H })).text(), /<form method="post"/)
  })
})

describe('crud() CSRF', () => {
  it('refuses a cross-site form post and accepts the token path', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 1)
    const [note] = await s.k.selectFrom('notes').selectAll().execute()
    // A plain client: no Sec-Fetch-Site of its own; headers as a browser would send them.
    const raw = testClient(s.app, { origin: s.url, fetch: (req) => fetch(req) })
    await raw.loginAs(ALICE)
    const cross = await raw.post(`/notes/${note.id}/delete`, { headers: { ...HTML_H, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, form: {} })
    assert.equal(cross.status, 403)
    const foreign = await raw.post('/notes', { headers: { ...HTML_H, origin: 'https://evil.example' }, form: { title: 'planted' } })
    assert.equal(foreign.status, 403)
    const noToken = await raw.post(`/notes/${note.id}`, { headers: HTML_H, form: { title: 'changed' } })
    assert.equal(noToken.status, 403)
    const badToken = await raw.post(`/notes/${note.id}`, { headers: HTML_H, form: { title: 'changed', _csrf: 'A'.repeat(86) } })
    assert.equal(badToken.status, 403)
    assert.deepEqual((await s.k.selectFrom('notes').select('title').execute()).map((r) => r.title), ['note 01'])

    const page = await (await raw.get(`/notes/${note.id}/edit`, { headers: HTML_H })).text()
    const ok = await raw.post(`/notes/${note.id}`, { headers: HTML_H, form: { _csrf: csrfOf(page), title: 'changed', author_id: '1' } })
    assert.equal(ok.status, 303)
    const header = await raw.delete(`/notes/${note.id}`, { headers: { ...JSON_H, 'x-csrf-token': csrfOf(page) } })
    assert.equal(header.status, 204)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 0)
  })

  it('is an ERR_CRUD_NO_CSRF error, naming the fix, when csrf() is not installed: the server does not start', async (t) => {
    await assert.rejects(setup(t, { csrf: false }), /crud\("\/notes"\) serves forms that change data and needs CSRF protection: add app\.use\(session\(\)\) and app\.use\(csrf\(\)\)/)
  })
})
