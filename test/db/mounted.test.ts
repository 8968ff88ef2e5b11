import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { database, sql } from '../../src/db/index.js'
import { serve } from '../helpers/server.js'

describe('carafe/db in a mounted app', () => {
  it('a mounted app maps the database errors of its parent\'s db plugin (no row → 404, unique → 409)', async (t) => {
    const db = database<{ items: { id: number; name: string } }>('sqlite::memory:')
    const parent = new Carafe()
    parent.use(db.middleware())
    const api = new Carafe()
    api.get('/items/<int:id>', (c) => db.kysely.selectFrom('items').selectAll().where('id', '=', c.params.id).executeTakeFirstOrThrow())
    api.post('/items/<int:id>', async (c) => { await db.kysely.insertInto('items').values({ id: c.params.id, name: 'same' }).execute(); return 'ok' })
    parent.mount('/api', api)
    const s = await serve(t, parent)
    await sql`create table items (id integer primary key, name text unique not null)`.execute(db.kysely)
    const json = { accept: 'application/json' }
    assert.equal((await fetch(`${s.url}/api/items/1`, { headers: json })).status, 404)
    assert.equal((await fetch(`${s.url}/api/items/1`, { method: 'POST', headers: json })).status, 200)
    const dup = await fetch(`${s.url}/api/items/2`, { method: 'POST', headers: json })
    assert.equal(dup.status, 409)
    assert.match(((await dup.json()) as { message: string }).message, /already exists/)
    assert.equal((await fetch(`${s.url}/api/items/1`, { headers: json })).status, 200)
  })
})
