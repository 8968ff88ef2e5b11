import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { database, sql } from '../../src/db/index.js'
import { tableInfo, coerceFormValue, toDbValue, kindOf } from '../../src/db/introspect.js'
import { needService, SERVICES, uniqueName } from '../helpers/services.js'

describe('tableInfo', () => {
  it('reads columns, types, nullability, defaults and the primary key on SQLite', async (t) => {
    const db = database('sqlite::memory:')
    t.after(() => db.close())
    await sql`create table notes (id integer primary key, title text not null, votes integer default 0, done boolean not null default 0, at datetime)`.execute(db.kysely)
    const info = await tableInfo(db, 'notes')
    assert.deepEqual(info.primaryKey, ['id'])
    assert.deepEqual(info.columns.map((c) => [c.name, c.kind, c.nullable, c.hasDefault]), [
      ['id', 'integer', true, true], ['title', 'text', false, false], ['votes', 'integer', true, true], ['done', 'boolean', false, true], ['at', 'datetime', true, false],
    ])
    assert.equal(info.column('id')?.autoIncrement, true)
    assert.equal(info.column('nope'), undefined)
    await assert.rejects(tableInfo(db, 'missing'), { code: 'ERR_NO_TABLE' })
  })

  it('reads the primary key and types on PostgreSQL', async (t) => {
    if (!(await needService(t, 'postgres'))) return
    const db = database(SERVICES.postgres.url)
    const table = uniqueName('intro')
    t.after(async () => { await sql`drop table if exists ${sql.table(table)}`.execute(db.kysely); await db.close() })
    await sql`create table ${sql.table(table)} (id serial primary key, title varchar(80) not null unique, votes int4, done bool default false, at timestamptz, meta jsonb)`.execute(db.kysely)
    const info = await tableInfo(db, table)
    assert.deepEqual(info.primaryKey, ['id'])
    assert.deepEqual(info.columns.map((c) => [c.name, c.kind, c.nullable]), [
      ['id', 'integer', false], ['title', 'text', false], ['votes', 'integer', true], ['done', 'boolean', true], ['at', 'datetime', true], ['meta', 'json', true],
    ])
    assert.equal(info.column('id')?.autoIncrement, true)
    assert.equal(info.column('done')?.hasDefault, true)
  })
})

describe('coerceFormValue', () => {
  const col = (kind: ReturnType<typeof kindOf>, nullable = false) => ({ name: 'x', dataType: kind, kind, nullable, hasDefault: false, autoIncrement: false, primaryKey: false })
  it('parses numbers and checkboxes, keeps what does not parse for the schema to refuse', () => {
    assert.equal(coerceFormValue(col('integer'), '12'), 12)
    assert.equal(coerceFormValue(col('integer'), '12abc'), '12abc')
    assert.equal(coerceFormValue(col('integer'), '99999999999999999'), '99999999999999999')
    assert.equal(coerceFormValue(col('number'), '1.5'), 1.5)
    assert.equal(coerceFormValue(col('boolean'), undefined), false)
    assert.equal(coerceFormValue(col('boolean'), 'on'), true)
    assert.equal(coerceFormValue(col('integer', true), ''), null)
    assert.equal(coerceFormValue(col('integer'), ''), undefined)
    assert.equal(coerceFormValue(col('text'), ''), '')
  })
  it('shapes values for the drivers', () => {
    assert.equal(toDbValue('sqlite', col('boolean'), true), 1)
    assert.deepEqual(['tinyint(1)', 'tinyint(4)', 'boolean', 'bool', 'int(11)', 'varchar(80)', 'timestamp with time zone', 'date', 'jsonb', 'numeric(10,2)'].map(kindOf), ['boolean', 'integer', 'boolean', 'boolean', 'integer', 'text', 'datetime', 'date', 'json', 'number'])
    assert.equal(toDbValue('postgres', col('boolean'), true), true)
    assert.equal(toDbValue('sqlite', col('json'), { a: 1 }), '{"a":1}')
  })
})
