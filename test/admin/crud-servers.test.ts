import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from '../../src/db/index.js'
import { needService, SERVICES, uniqueName } from '../helpers/services.js'
import { setup, JSON_H, HTML_H, csrfOf } from './crud-helpers.js'

for (const engine of ['postgres', 'mariadb'] as const) describe(`crud() on ${engine}`, () => {
  it('introspects the table, coerces form strings by column type, and keeps every check', async (t) => {
    if (!(await needService(t, engine))) return
    const table = uniqueName('crud_notes')
    const users = uniqueName('crud_users')
    const s = await setup(t, {
      url: SERVICES[engine].url,
      table,
      create: async (k) => {
        await sql`create table ${sql.table(users)} (id int primary key, email text not null)`.execute(k)
        await sql`insert into ${sql.table(users)} values (1, 'alice@example.com'), (2, 'bob@example.com')`.execute(k)
        await sql`create table ${sql.table(table)} (id ${sql.raw(engine === 'postgres' ? 'serial' : 'int auto_increment')} primary key, title varchar(80) not null unique, body text, votes int not null default 0, done boolean not null default false, author_id int references ${sql.table(users)}(id))`.execute(k)
      },
      drop: async (k) => {
        await sql`drop table if exists ${sql.table(table)}`.execute(k)
        await sql`drop table if exists ${sql.table(users)}`.execute(k)
      },
    })
    const form = await (await s.alice.get('/notes/new', { headers: HTML_H })).text()
    const made = await s.alice.post('/notes', { headers: HTML_H, form: { _csrf: csrfOf(form), title: '100% Cotton', votes: '7', done: 'on', author_id: '1' } })
    assert.equal(made.status, 303)
    const row = await s.k.selectFrom(table).selectAll().executeTakeFirstOrThrow()
    assert.deepEqual([row.title, row.votes, Boolean(row.done), row.author_id], ['100% Cotton', 7, true, 1])

    const json = await s.alice.post('/notes', { headers: JSON_H, json: { title: 'second', author_id: 2 } })
    assert.equal(json.status, 201)
    assert.equal((await s.alice.post('/notes', { headers: JSON_H, json: { title: 'second' } })).status, 409)
    assert.equal((await s.alice.post('/notes', { headers: JSON_H, json: { title: 'third', author_id: 42 } })).status, 409)
    assert.equal((await s.alice.post('/notes', { headers: JSON_H, json: { title: '' } })).status, 422)

    const search = async (q: string): Promise<string[]> => ((await (await s.anon.get(`/notes?q=${encodeURIComponent(q)}`, { headers: JSON_H })).json()) as { items: Array<{ title: string }> }).items.map((i) => i.title)
    assert.deepEqual(await search('cotton'), ['100% Cotton'])
    assert.deepEqual(await search('0%'), ['100% Cotton'])
    assert.deepEqual(await search('_'), [])
    const filtered = await (await s.anon.get('/notes?done=true&sort=-votes', { headers: JSON_H })).json() as { total: number }
    assert.equal(filtered.total, 1)
    for (const q of ['sort=id;drop table x', `sort=${encodeURIComponent('"title"')}`, 'limit=-1', 'page=1e9', 'votes=1', 'author_id=1%27']) {
      assert.equal((await s.anon.get(`/notes?${q}`, { headers: JSON_H })).status, 400, q)
    }
    assert.equal((await s.alice.get(`/notes/1;drop table ${table}`, { headers: JSON_H })).status, 404)
    assert.equal((await s.k.selectFrom(table).selectAll().execute()).length, 2)
  })
})
