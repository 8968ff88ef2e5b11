import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { testClient, testFile } from '../../src/testing/client.js'

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

  it('sends repeated names in forms and queries', async () => {
    const app = new Carafe()
    app.post('/form', async (c) => { const f = await c.req.form(); return { tag: f.getAll('tag'), one: f.get('one'), n: f.get('n') } })
    app.get('/q', (c) => ({ tag: c.queries('tag'), b: c.queries('b') }))
    const client = testClient(app)
    assert.deepEqual(await (await client.post('/form', { form: { tag: ['a', 'b', '나'], one: 'x', n: 3 } })).json(), { tag: ['a', 'b', '나'], one: 'x', n: '3' })
    assert.deepEqual(await (await client.get('/q', { query: { tag: ['x', 'y'], b: [1, true] } })).json(), { tag: ['x', 'y'], b: ['1', 'true'] })
    assert.deepEqual(await (await client.get('/q', { query: new URLSearchParams([['tag', '1'], ['tag', '2']]) })).json(), { tag: ['1', '2'], b: [] })
  })

  it('sends multipart files (one, several under one name, with fields) and FormData as is', async () => {
    const app = new Carafe()
    app.post('/up', async (c) => {
      const f = await c.req.form()
      const files = f.getAll('photo').filter((v) => typeof v !== 'string') as Array<{ filename: string; type: string; text(): Promise<string> }>
      return {
        type: c.req.contentType,
        title: f.get('title'),
        tags: f.getAll('tag'),
        files: await Promise.all(files.map(async (p) => ({ name: p.filename, type: p.type, text: await p.text() }))),
        doc: await f.file('doc')?.text(),
      }
    })
    const client = testClient(app)
    const res = await client.post('/up', {
      form: { title: 'cats', tag: ['a', 'b'], photo: [testFile('one.txt', 'first', 'text/plain'), testFile('two.txt', new TextEncoder().encode('second'), 'text/plain')], doc: new Blob(['blob body']) },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {
      type: 'multipart/form-data',
      title: 'cats',
      tags: ['a', 'b'],
      files: [{ name: 'one.txt', type: 'text/plain', text: 'first' }, { name: 'two.txt', type: 'text/plain', text: 'second' }],
      doc: 'blob body',
    })
    const data = new FormData()
    data.append('title', 'raw')
    assert.equal((await (await client.post('/up', { form: data })).json() as { title: string }).title, 'raw')
  })

  it('comes from 127.0.0.1 unless told otherwise', async () => {
    const app = new Carafe()
    app.get('/ip', (c) => c.req.remoteAddress ?? 'none')
    const client = testClient(app)
    assert.equal(await (await client.get('/ip')).text(), '127.0.0.1')
    assert.equal(await (await client.get('/ip', { remoteAddress: '203.0.113.9' })).text(), '203.0.113.9')
    assert.equal(await (await app.request('/ip')).text(), '127.0.0.1')
  })
})
