import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'

describe('app.url (formatRoute)', () => {
  it('refuses params that their converter would not match', () => {
    const app = new Carafe()
    app.get('/user/<int:id>', () => '', { name: 'user' })
    app.get('/n/<int(min=1, max=9):n>', () => '', { name: 'digit' })
    app.get('/price/<float:x>', () => '', { name: 'price' })
    app.get('/code/<string(length=2):c>', () => '', { name: 'code' })
    app.get('/<any(about, help):page>', () => '', { name: 'page' })
    app.get('/d/<int:y>-<int:m>', () => '', { name: 'date' })
    app.get('/u/<uuid:u>', () => '', { name: 'uuid' })
    for (const [name, params] of [
      ['user', { id: 'x' }], ['user', { id: -1 }], ['user', { id: 1.5 }], ['user', { id: '' }],
      ['digit', { n: 0 }], ['digit', { n: 10 }], ['price', { x: 'a' }], ['code', { c: 'abc' }],
      ['page', { page: 'admin' }], ['date', { y: 2026, m: 'x' }], ['uuid', { u: 'nope' }],
    ] as const) {
      assert.throws(() => app.url(name, params), (e: Error & { code?: string }) => e.code === 'ERR_URL_PARAM' && /is not a valid/.test(e.message), `${name} ${JSON.stringify(params)}`)
    }
    assert.equal(app.url('user', { id: 7 }), '/user/7')
    assert.equal(app.url('digit', { n: 9 }), '/n/9')
    assert.equal(app.url('price', { x: 1.5 }), '/price/1.5')
    assert.equal(app.url('code', { c: 'ko' }), '/code/ko')
    assert.equal(app.url('page', { page: 'help' }), '/help')
    assert.equal(app.url('date', { y: 2026, m: 11 }), '/d/2026-11')
  })

  it('gives a 500 (not a broken link) when a handler builds a URL from a bad value', async () => {
    const app = new Carafe()
    app.get('/user/<int:id>', () => '', { name: 'user' })
    app.get('/link', (c) => c.url('user', { id: c.query('id') }))
    assert.equal(await (await app.fetch(new Request('http://localhost/link?id=3'))).text(), '/user/3')
    const original = console.error
    console.error = () => {}
    try {
      assert.equal((await app.fetch(new Request('http://localhost/link?id=x'))).status, 500)
    } finally {
      console.error = original
    }
  })
})
