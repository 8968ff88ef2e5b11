import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import type { Generated } from 'kysely'
import { Carafe } from '../../src/index.js'
import { database } from '../../src/db/index.js'
import { crud, type CrudAction } from '../../src/admin/index.js'

interface DB { notes: { id: Generated<number>; title: string; author_id: number | null } }

describe('crud() types', () => {
  it('types table names and rows from the database type', () => {
    const app = new Carafe()
    const db = database<DB>('sqlite::memory:')
    const Note = z.object({ title: z.string(), author_id: z.number().nullable() })
    crud(app, '/notes', {
      db,
      table: 'notes',
      schema: Note,
      can: (_c, action: CrudAction, row) => action === 'list' || row?.author_id === 1,
    })
    // @ts-expect-error: not a table of DB
    crud(app, '/nope', { db, table: 'nope', schema: Note, can: () => true })
    assert.ok(app.routes().some((r) => r.pattern === '/notes/<id>/delete' && r.method === 'POST'))
    void db.close()
  })
})
