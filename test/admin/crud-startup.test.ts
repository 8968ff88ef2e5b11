import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { csrf } from '../../src/auth/index.js'
import { database } from '../../src/db/index.js'
import { crud } from '../../src/admin/index.js'
import { captureErrors } from '../helpers/capture.js'

const Note = z.object({ title: z.string() })

function resource(app: Carafe): void {
  const db = database<{ notes: { id: number; title: string } }>('sqlite::memory:')
  app.use(db.middleware())
  crud(app, '/notes', { db, table: 'notes', schema: Note, can: () => true })
}

describe('crud() and csrf() at startup', () => {
  it('an app with crud() pages and no csrf() does not start, and says why', async () => {
    const app = new Carafe({ secrets: 'crud-startup-secret-0123456789abcdef0123' })
    app.use(session())
    resource(app)
    await assert.rejects(app.listen({ host: '127.0.0.1', port: 0 }), (e: Error & { code?: string }) => e.code === 'ERR_CRUD_NO_CSRF' && /app\.use\(csrf\(\)\)/.test(e.message))
  })

  it('served without startup (app.fetch), each request is refused with the same error, and nothing runs', async () => {
    const app = new Carafe()
    resource(app)
    const { value, logged } = await captureErrors(async () => (await app.request('/notes', { headers: { accept: 'application/json' } })).status)
    assert.equal(value, 500)
    assert.match(logged, /ERR_CRUD_NO_CSRF|needs CSRF protection/)
  })

  it('starts with csrf() installed here, or in the app it is mounted in', async (t) => {
    const here = new Carafe({ secrets: 'crud-startup-secret-0123456789abcdef0123' })
    here.use(session())
    here.use(csrf())
    resource(here)
    const s1 = await here.listen({ host: '127.0.0.1', port: 0 })
    t.after(() => s1.close())

    const outer = new Carafe({ secrets: 'crud-startup-secret-0123456789abcdef0123' })
    outer.use(session())
    outer.use(csrf())
    const inner = new Carafe()
    resource(inner)
    outer.mount('/api', inner)
    const s2 = await outer.listen({ host: '127.0.0.1', port: 0 })
    t.after(() => s2.close())
    assert.equal(outer.plugin('csrf')?.name, 'csrf')
    assert.equal(inner.plugin('csrf')?.name, 'csrf', 'a mounted app sees the csrf() of the app it is mounted in')
  })
})
