import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { testClient } from '../../src/testing/client.js'

describe('testClient', () => {
  it('sends JSON, forms and query parameters through app.fetch', async () => {
    const app = new Carafe()
    app.post('/json', async (c) => ({ got: await c.req.json(), type: c.req.contentType }))
    app.post('/form', async (c) => (await c.req.form()).toObject())
    app.get('/q', (c) => ({ a: c.query('a'), b: c.queries('b') }))
    const client = testClient(app)
    assert.deepEqual(await (await client.post('/json', { json: { x: 1 } })).json(), { got: { x: 1 }, type: 'application/json' })
    assert.deepEqual(await (await client.post('/form', { form: { n: '나' } })).json(), { n: '나' })
    assert.deepEqual(await (await client.get('/q?b=1', { query: { a: 'x', b: 2 } })).json(), { a: 'x', b: ['1', '2'] })
    assert.equal((await client.delete('/q')).status, 405)
  })
})
