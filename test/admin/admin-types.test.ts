import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Generated } from 'kysely'
import { database } from '../../src/db/index.js'
import { admin } from '../../src/admin/index.js'
import { Carafe } from '../../src/index.js'

interface DB {
  notes: { id: Generated<number>; title: string; body: string | null; author_id: number | null }
  users: { id: Generated<number>; email: string }
}

describe('admin() types', () => {
  it('checks table and column names against a typed database, and takes any names from an untyped one', () => {
    const db = database<DB>('sqlite::memory:')
    const app = admin({ db, tables: { notes: { list: ['title', 'author_id'], search: ['title', 'body'], filters: ['author_id'], widgets: { body: 'textarea' } }, users: true } })
    assert.ok(app instanceof Carafe)
    // @ts-expect-error: notes has no column "nope"
    admin({ db, tables: { notes: { list: ['nope'] } } })
    // @ts-expect-error: the database has no table "nope"
    admin({ db, tables: { nope: true } })
    // @ts-expect-error: a widget for a column that does not exist
    admin({ db, tables: { users: { widgets: { bio: 'textarea' } } } })
    const loose = database('sqlite::memory:')
    assert.ok(admin({ db: loose, tables: { anything: { list: ['x', 'y'] } } }) instanceof Carafe)
  })

  it('refuses a config without a database or tables at once', () => {
    const db = database('sqlite::memory:')
    assert.throws(() => admin({ db, tables: {} }), /name at least one table/)
    assert.throws(() => admin({ tables: { notes: true } } as never), /give \{ db, tables \}/)
    assert.throws(() => admin({ db, tables: { notes: true }, historyTable: 'log; drop table x' }), /historyTable .* must be a plain SQL name/)
  })
})
