import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { csrf } from '../../src/auth/index.js'
import { crud } from '../../src/admin/index.js'
import { captureErrors } from '../helpers/capture.js'
import { serve } from '../helpers/server.js'
import { sql } from '../../src/db/index.js'
import { setup, seed, JSON_H, HTML_H, Note, SECRET } from './crud-helpers.js'

describe('crud() JSON', () => {
  it('creates (201 + Location), reads, updates, patches and deletes (204) a row', async (t) => {
    const s = await setup(t)
    const created = await s.alice.post('/notes', { headers: JSON_H, json: { title: 'first', body: 'hello', votes: 2, author_id: 1 } })
    assert.equal(created.status, 201)
    const row = await created.json() as Record<string, unknown>
    assert.equal(row.title, 'first')
    assert.equal(row.done, false)
    assert.equal(created.headers.get('location'), `/notes/${row.id}`)

    const got = await s.alice.get(`/notes/${row.id}`, { headers: JSON_H })
    assert.equal(got.status, 200)
    assert.deepEqual(await got.json(), row)

    const put = await s.alice.put(`/notes/${row.id}`, { headers: JSON_H, json: { title: 'renamed', votes: 3, done: true, author_id: 1 } })
    assert.equal(put.status, 200)
    assert.equal((await put.json() as { title: string }).title, 'renamed')

    const patch = await s.alice.patch(`/notes/${row.id}`, { headers: JSON_H, json: { votes: 9 } })
    assert.equal(patch.status, 200)
    const patched = await patch.json() as Record<string, unknown>
    assert.equal(patched.votes, 9)
    assert.equal(patched.title, 'renamed')
    assert.equal(patched.done, true)

    const stored = await s.k.selectFrom('notes').selectAll().where('id', '=', row.id as number).executeTakeFirstOrThrow()
    assert.equal(stored.votes, 9)

    const del = await s.alice.delete(`/notes/${row.id}`, { headers: JSON_H })
    assert.equal(del.status, 204)
    assert.equal((await s.alice.get(`/notes/${row.id}`, { headers: JSON_H })).status, 404)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 0)
  })

  it('answers 404 for missing and malformed ids, touching nothing', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 2)
    for (const id of ['999', 'abc', "1'%20or%20'1'='1", '1;drop%20table%20notes', '1e3', '99999999999999999999']) {
      assert.equal((await s.alice.get(`/notes/${id}`, { headers: JSON_H })).status, 404, id)
      assert.equal((await s.alice.delete(`/notes/${id}`, { headers: JSON_H })).status, 404, id)
      assert.equal((await s.alice.put(`/notes/${id}`, { headers: JSON_H, json: { title: 'x' } })).status, 404, id)
    }
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 2)
  })

  it('lists with pagination, capping ?limit= and refusing bad ?page= and ?limit=', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 12)
    const first = await (await s.anon.get('/notes', { headers: JSON_H })).json() as { items: Array<{ title: string }>; page: number; limit: number; total: number; pages: number }
    assert.deepEqual([first.page, first.limit, first.total, first.pages, first.items.length], [1, 5, 12, 3, 5])
    assert.equal(first.items[0]!.title, 'note 01')
    const third = await (await s.anon.get('/notes?page=3', { headers: JSON_H })).json() as typeof first
    assert.deepEqual(third.items.map((i) => i.title), ['note 11', 'note 12'])
    const big = await (await s.anon.get('/notes?limit=1000', { headers: JSON_H })).json() as typeof first
    assert.equal(big.limit, 10)
    assert.equal(big.items.length, 10)
    const far = await (await s.anon.get('/notes?page=999999999', { headers: JSON_H })).json() as typeof first
    assert.equal(far.items.length, 0)
    for (const q of ['limit=-1', 'limit=0', 'limit=abc', 'page=0', 'page=-2', 'page=1e9', 'page=1.5', 'page=1000000000', 'page=1&page=2', "page=1'"]) {
      const res = await s.anon.get(`/notes?${q}`, { headers: JSON_H })
      assert.equal(res.status, 400, q)
      assert.match((await res.json() as { message: string }).message, /page|limit/, q)
    }
  })

  it('sorts on sortable columns only; an unknown or injected sort is a 400 and changes nothing', async (t) => {
    const s = await setup(t, { crud: { sortable: ['title', 'votes'] } })
    await seed(s.k, 'notes', 6)
    const desc = await (await s.anon.get('/notes?sort=-votes', { headers: JSON_H })).json() as { items: Array<{ votes: number }> }
    assert.deepEqual(desc.items.map((i) => i.votes), [6, 5, 4, 3, 2])
    const two = await (await s.anon.get('/notes?sort=title,-votes', { headers: JSON_H })).json() as { items: Array<{ title: string }> }
    assert.equal(two.items[0]!.title, 'note 01')
    for (const sort of ['id', 'body', 'nope', 'id;drop table notes', 'title;drop table notes', '"title"', "title'", 'title desc', '(select 1)', '--title', 'title,', '']) {
      const res = await s.anon.get(`/notes?sort=${encodeURIComponent(sort)}`, { headers: JSON_H })
      assert.equal(res.status, sort === '' ? 200 : 400, sort)
    }
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 6)
  })

  it('filters on declared columns; other columns and injected names are 400s', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 3, 1)
    await seed2(s)
    const mine = await (await s.anon.get('/notes?author_id=2', { headers: JSON_H })).json() as { items: Array<{ title: string }>; total: number }
    assert.deepEqual(mine.items.map((i) => i.title), ['bob 1'])
    const both = await (await s.anon.get('/notes?author_id=1&author_id=2', { headers: JSON_H })).json() as { total: number }
    assert.equal(both.total, 4)
    const done = await (await s.anon.get('/notes?done=true', { headers: JSON_H })).json() as { total: number }
    assert.equal(done.total, 1)
    for (const q of ['votes=1', 'title=x', 'nope=1', 'author_id%3Bdrop%20table%20notes=1', "author_id'=1", 'author_id=1%20or%201=1', 'author_id=abc', 'done=maybe']) {
      assert.equal((await s.anon.get(`/notes?${q}`, { headers: JSON_H })).status, 400, q)
    }
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 4)
  })

  it('searches search columns with wildcards and quotes taken literally', async (t) => {
    const s = await setup(t)
    for (const title of ['100% cotton', '100 percent', 'snake_case', 'snakeXcase', "it's", 'a!b']) await s.k.insertInto('notes').values({ title }).execute()
    const titles = async (q: string): Promise<string[]> => ((await (await s.anon.get(`/notes?q=${encodeURIComponent(q)}`, { headers: JSON_H })).json()) as { items: Array<{ title: string }> }).items.map((i) => i.title).sort()
    assert.deepEqual(await titles('%'), ['100% cotton'])
    assert.deepEqual(await titles('_'), ['snake_case'])
    assert.deepEqual(await titles("'"), ["it's"])
    assert.deepEqual(await titles('!'), ['a!b'])
    assert.deepEqual(await titles('SNAKE'), ['snakeXcase', 'snake_case'])
    assert.deepEqual(await titles("' or 1=1 --"), [])
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 6)
  })

  it('answers 422 with the issues list for invalid input, storing nothing', async (t) => {
    const s = await setup(t)
    const res = await s.alice.post('/notes', { headers: JSON_H, json: { title: '', votes: -1 } })
    assert.equal(res.status, 422)
    const body = await res.json() as { issues: Array<{ path: string; message: string }>; status: number }
    assert.equal(body.status, 422)
    assert.deepEqual(body.issues.map((i) => i.path).sort(), ['title', 'votes'])
    assert.equal(body.issues.find((i) => i.path === 'title')!.message, "can't be blank")
    assert.equal((await s.alice.post('/notes', { headers: JSON_H, json: ['not', 'an', 'object'] })).status, 400)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 0)
  })

  it('answers 409 for a unique or foreign-key violation', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 1)
    const dup = await s.alice.post('/notes', { headers: JSON_H, json: { title: 'note 01' } })
    assert.equal(dup.status, 409)
    assert.match((await dup.json() as { message: string }).message, /unique/)
    const fk = await s.alice.post('/notes', { headers: JSON_H, json: { title: 'orphan', author_id: 99 } })
    assert.equal(fk.status, 409)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 1)
  })

  it('ignores schema keys that are not columns and never lets a body name a column', async (t) => {
    const s = await setup(t)
    const res = await s.alice.post('/notes', { headers: JSON_H, json: { title: 'x', 'id = 5; drop table notes; --': 1, id: 77 } })
    assert.equal(res.status, 201)
    const row = await res.json() as { id: number }
    assert.notEqual(row.id, 77)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 1)
  })
})

async function seed2(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  await s.k.insertInto('notes').values({ title: 'bob 1', author_id: 2, done: 1 }).execute()
}

describe('crud() permissions', () => {
  it('asks can() per action and row: 403 for another owner, 401 when logged out', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 1, 1)
    const [note] = await s.k.selectFrom('notes').selectAll().execute()
    assert.equal((await s.bob.put(`/notes/${note.id}`, { headers: JSON_H, json: { title: 'mine now' } })).status, 403)
    assert.equal((await s.bob.delete(`/notes/${note.id}`, { headers: JSON_H })).status, 403)
    assert.equal((await s.bob.get(`/notes/${note.id}/edit`, { headers: HTML_H })).status, 403)
    assert.equal((await s.bob.post(`/notes/${note.id}/delete`, { headers: HTML_H, form: {} })).status, 403)
    const anon = await s.anon.post('/notes', { headers: JSON_H, json: { title: 'x' } })
    assert.equal(anon.status, 401)
    assert.ok(anon.headers.get('www-authenticate'))
    const browser = await s.anon.get('/notes/new', { headers: HTML_H })
    assert.equal(browser.status, 302)
    assert.match(browser.headers.get('location')!, /^\/login\?next=%2Fnotes%2Fnew/)
    assert.equal((await s.bob.get(`/notes/${note.id}`, { headers: JSON_H })).status, 200)
    const stored = await s.k.selectFrom('notes').selectAll().execute()
    assert.deepEqual(stored.map((r) => r.title), ['note 01'])
    const admin = s.client()
    await admin.loginAs({ id: 3, email: 'root@example.com', roles: ['admin'] } as never)
    assert.equal((await admin.delete(`/notes/${note.id}`, { headers: JSON_H })).status, 204)
  })

  it('checks create against the values: can() may refuse a row for someone else', async (t) => {
    const s = await setup(t, { crud: { can: (c, action, row) => action !== 'create' || row === undefined || (row as { author_id?: number }).author_id === (c.user as { id: number }).id } })
    assert.equal((await s.alice.post('/notes', { headers: JSON_H, json: { title: 'as bob', author_id: 2 } })).status, 403)
    assert.equal((await s.alice.post('/notes', { headers: JSON_H, json: { title: 'as me', author_id: 1 } })).status, 201)
    assert.deepEqual((await s.k.selectFrom('notes').select('title').execute()).map((r) => r.title), ['as me'])
  })
})

describe('crud() configuration', () => {
  it('checks declared names against the table and says what to fix', async (t) => {
    const s = await setup(t, { crud: { sortable: ['title', 'title; drop table notes'] } })
    const { value, logged } = await captureErrors(async () => (await s.anon.get('/notes', { headers: JSON_H })).status)
    assert.equal(value, 500)
    assert.match(logged, /ERR_CRUD_CONFIG|sortable names "title; drop table notes", which is not a column/)
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 0)
  })

  it('refuses search on a column that is not text, and a bad prefix at once', async (t) => {
    const s = await setup(t, { crud: { search: ['votes'] } })
    const { logged } = await captureErrors(async () => (await s.anon.get('/notes', { headers: JSON_H })).status)
    assert.match(logged, /search column "votes" is not a text column/)
    assert.throws(() => crud(s.app, '/x/<id>', { db: s.db, table: 'notes', schema: Note, can: () => true }), { code: 'ERR_CRUD_CONFIG' })
  })

  it('works inside a mounted app: links and Location carry the mount prefix', async (t) => {
    const s = await setup(t)
    const inner = new Carafe({ secrets: [SECRET], root: s.app.root })
    crud(inner, '/notes', { db: s.db, table: 'notes', schema: Note, can: () => true })
    const outer = new Carafe({ secrets: [SECRET], root: s.app.root })
    outer.use(session())
    outer.use(csrf())
    outer.mount('/api', inner)
    const srv = await serve(t, outer)
    const res = await fetch(`${srv.url}/api/notes`, { method: 'POST', headers: { ...JSON_H, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, body: JSON.stringify({ title: 'mounted' }) })
    assert.equal(res.status, 201)
    assert.match(res.headers.get('location')!, /^\/api\/notes\/\d+$/)
    const list = await (await fetch(`${srv.url}/api/notes`, { headers: HTML_H })).text()
    assert.match(list, /href="\/api\/notes\/\d+">/)
  })
})

describe('crud() content negotiation', () => {
  it('answers JSON to a DELETE with no preference, HTML to a browser, JSON to Accept: application/json', async (t) => {
    const s = await setup(t)
    await seed(s.k, 'notes', 2)
    const ids = (await s.k.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => r.id as number)
    const del = await s.alice.delete(`/notes/${ids[0]}`, { headers: { accept: '*/*' } })
    assert.equal(del.status, 204)
    const page = await s.alice.get(`/notes/${ids[1]}`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } })
    assert.match(page.headers.get('content-type')!, /text\/html/)
    const api = await s.alice.get(`/notes/${ids[1]}`, { headers: JSON_H })
    assert.match(api.headers.get('content-type')!, /application\/json/)
  })
})

describe('crud() columns shown', () => {
  it('never shows a column outside the schema that the database does not fill in, unless listed', async (t) => {
    const create = async (k: import('kysely').Kysely<any>): Promise<void> => {
      await sql`create table users (id integer primary key, email text not null)`.execute(k)
      await sql`create table notes (id integer primary key, title text not null, secret text, created_at text not null default current_timestamp, author_id integer)`.execute(k)
      await sql`insert into notes (title, secret, author_id) values ('a', 'hash-123', 1)`.execute(k)
    }
    const s = await setup(t, { create, crud: { filters: [], search: ['title'] } })
    const row = await (await s.alice.get('/notes/1', { headers: JSON_H })).json() as Record<string, unknown>
    assert.equal(row.title, 'a')
    assert.ok(typeof row.created_at === 'string')
    assert.equal('secret' in row, false)
    const list = await (await s.alice.get('/notes', { headers: JSON_H })).json() as { items: Array<Record<string, unknown>> }
    assert.equal('secret' in list.items[0]!, false)
    assert.doesNotMatch(await (await s.alice.get('/notes/1', { headers: HTML_H })).text(), /hash-123/)
    assert.doesNotMatch(await (await s.alice.get('/notes', { headers: HTML_H })).text(), /hash-123/)
    // can() still saw the whole row: alice owns it through author_id.
    assert.equal((await s.alice.delete('/notes/1', { headers: JSON_H })).status, 204)
  })

  it('shows exactly the listed columns', async (t) => {
    const s = await setup(t, { crud: { columns: ['title'] } })
    await seed(s.k, 'notes', 1)
    assert.deepEqual(Object.keys(await (await s.alice.get('/notes/1', { headers: JSON_H })).json() as object).sort(), ['id', 'title'])
  })
})
