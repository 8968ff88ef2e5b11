import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from '../../src/db/index.js'
import { needService, SERVICES } from '../helpers/services.js'
import { site, submit, tokenIn, ADMIN, STAFF } from './helpers.js'

const HTML = { headers: { accept: 'text/html' } }

describe('admin() on PostgreSQL and MariaDB', () => {
  for (const service of ['postgres', 'mariadb'] as const) {
    it(`lists, searches, creates, edits, bulk-deletes and logs on ${service}, with the same checks as on SQLite`, (t) => mainFlow(t, service))
  }
})

async function mainFlow(t: TestContext, service: 'postgres' | 'mariadb'): Promise<void> {
  if (!(await needService(t, service))) return
  const s = await site(t, { url: SERVICES[service].url })
  const k = s.db.open(s.root)
  await sql`insert into ${sql.table(s.users)} (id, email, name) values (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob')`.execute(k)
  for (let i = 1; i <= 12; i++) await sql`insert into ${sql.table(s.notes)} (title, author_id, published) values (${`Note ${String(i).padStart(2, '0')}`}, ${i % 2 === 0 ? 2 : 1}, ${i % 3 === 0})`.execute(k)

  assert.equal((await (await s.as(STAFF)).get('/admin/', HTML)).status, 403)
  const c = await s.as(ADMIN)
  const dash = await (await c.get('/admin/', HTML)).text()
  assert.match(dash, /class="num">12<\/td>/)

  const titles = async (q: string): Promise<string[]> => {
    const res = await c.get(`/admin/${s.notes}${q}`, HTML)
    assert.equal(res.status, 200, q)
    return [...(await res.text()).matchAll(/href="\/admin\/notes_[^/"]+\/\d+">([^<]*)<\/a>/g)].map((m) => m[1]!)
  }
  assert.deepEqual(await titles('?q=note+1&sort=title'), ['Note 10', 'Note 11', 'Note 12'], 'case-insensitive search')
  assert.deepEqual(await titles('?published=1&sort=-title'), ['Note 12', 'Note 09', 'Note 06', 'Note 03'], 'a boolean filter')
  assert.equal((await titles('?page=2')).length, 2)
  for (const q of ["?sort=title;drop table x", '?author_id=abc', "?nope=1"]) assert.equal((await c.get(`/admin/${s.notes}${q}`, HTML)).status, 400, q)
  assert.equal((await c.get(`/admin/${s.notes}/abc`, HTML)).status, 404)

  // Create (checkbox and timestamp on PostgreSQL types), unique clash, edit, history.
  let res = await submit(c, `/admin/${s.notes}/add`, `/admin/${s.notes}/add`, { title: 'From PG', author_id: '1', published: '1', created_at: '2026-01-02T03:04:05', rating: '' })
  assert.equal(res.status, 303, await res.clone().text())
  const id = res.headers.get('location')!.split('/').pop()!
  const row = (await sql<Record<string, unknown>>`select * from ${sql.table(s.notes)} where id = ${Number(id)}`.execute(k)).rows[0]!
  assert.equal(Boolean(row.published), true)
  assert.equal(row.title, 'From PG')
  const page = await (await c.get(`/admin/${s.notes}/${id}`, HTML)).text()
  assert.match(page, /name="created_at" value="2026-01-02T03:04:05"/)
  assert.match(page, /<input type="checkbox" id="f-published" name="published" value="1" checked>/)
  res = await c.post(`/admin/${s.notes}/${id}`, { form: { _csrf: tokenIn(page), title: 'Edited on PG', author_id: '1', published: '1', created_at: '2026-01-02T03:04:05', rating: '', due: '', body: '' }, headers: { accept: 'text/html' } })
  assert.equal(res.status, 303)
  res = await submit(c, `/admin/${s.users}/add`, `/admin/${s.users}/add`, { email: 'bob@example.com', name: '' })
  assert.equal(res.status, 409)
  // Longer than varchar(200): the engine refuses it, the form says so (not a 500).
  res = await submit(c, `/admin/${s.notes}/add`, `/admin/${s.notes}/add`, { title: 'x'.repeat(300), author_id: '1', created_at: '' })
  assert.equal(res.status, 422)
  assert.match(await res.text(), /a value does not fit its column/)
  res = await c.post(`/admin/${s.notes}`, { form: { ids: ['1', '2'], _csrf: tokenIn(page) }, headers: { accept: 'text/html', origin: 'https://evil.example' } })
  assert.equal(res.status, 403)
  res = await c.post(`/admin/${s.notes}`, { form: { ids: ['1', '2'], _csrf: tokenIn(page) }, headers: { accept: 'text/html' } })
  assert.equal(res.status, 303)
  assert.equal(await s.count(s.notes), 11)
  const log = (await sql<{ action: string; row_id: string; user_id: string; changes: string }>`select action, row_id, user_id, changes from ${sql.table(s.history)} order by id`.execute(k)).rows
  assert.deepEqual(log.map((r) => `${r.user_id} ${r.action} ${r.row_id}`), [`1 create ${id}`, `1 update ${id}`, '1 delete 1', '1 delete 2'])
  assert.deepEqual(JSON.parse(log[1]!.changes), { title: ['From PG', 'Edited on PG'] })
  assert.match(await (await c.get('/admin/', HTML)).text(), /Recent changes[\s\S]*delete[\s\S]*update/)
}
