import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { Carafe, type CarafeOptions } from '../../src/index.js'
import { serve } from '../helpers/server.js'
import { setup, JSON_H } from './crud-helpers.js'

/** Conduit's error body: `{"errors":{"title":["can't be blank"]}}`. */
const conduit: CarafeOptions['validationError'] = (_c, issues) => {
  const errors: Record<string, string[]> = {}
  for (const i of issues) (errors[i.path] ??= []).push(i.message)
  return { errors }
}

describe('validationError option', () => {
  it('shapes the 422 of a CRUD resource and the 400 of c.valid() alike', async (t) => {
    const s = await setup(t, { app: { validationError: conduit } })
    s.app.post('/plain', async (c) => c.valid('json', z.object({ title: z.string().min(1, "can't be blank") })))
    const crud = await s.alice.post('/notes', { headers: JSON_H, json: { title: '' } })
    assert.equal(crud.status, 422)
    assert.match(crud.headers.get('content-type')!, /application\/json/)
    assert.deepEqual(await crud.json(), { errors: { title: ["can't be blank"] } })
    const plain = await s.alice.post('/plain', { headers: JSON_H, json: { title: '' } })
    assert.equal(plain.status, 400)
    assert.deepEqual(await plain.json(), { errors: { title: ["can't be blank"] } })
    assert.equal((await s.k.selectFrom('notes').selectAll().execute()).length, 0)
  })

  it('gives both the same issues list by default, with their own statuses', async (t) => {
    const s = await setup(t)
    s.app.post('/plain', async (c) => c.valid('json', z.object({ title: z.string().min(1, "can't be blank") })))
    const crud = await (await s.alice.post('/notes', { headers: JSON_H, json: { title: '' } })).json() as { status: number; issues: unknown }
    const plain = await (await s.alice.post('/plain', { headers: JSON_H, json: { title: '' } })).json() as { status: number; issues: unknown }
    assert.deepEqual([crud.status, plain.status], [422, 400])
    assert.deepEqual(crud.issues, plain.issues)
    assert.deepEqual(plain.issues, [{ path: 'title', message: "can't be blank" }])
  })

  it('falls back to the default body when the shaper throws', async (t) => {
    const app = new Carafe({ validationError: () => { throw new Error('oops') } })
    app.post('/plain', async (c) => c.valid('json', z.object({ n: z.number() })))
    const s = await serve(t, app)
    const original = console.error
    console.error = () => {}
    try {
      const res = await fetch(`${s.url}/plain`, { method: 'POST', headers: { ...JSON_H, 'content-type': 'application/json' }, body: '{}' })
      assert.equal(res.status, 400)
      assert.equal(((await res.json()) as { issues: unknown[] }).issues.length, 1)
    } finally {
      console.error = original
    }
  })
})
