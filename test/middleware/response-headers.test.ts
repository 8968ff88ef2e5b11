import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { appendVary, hasHeader, readHeader, responseStatus } from '../../src/middleware/response-headers.js'

describe('response-headers', () => {
  it('reads headers and the status from c, or from a Response body, c first', async () => {
    const app = new Carafe()
    const seen: unknown[] = []
    app.use(async function probe(c, next) {
      await next()
      seen.push(readHeader(c, 'x-r'), readHeader(c, 'x-both'), hasHeader(c, 'x-r'), hasHeader(c, 'x-none'), responseStatus(c), readHeader(c, 'content-type'))
    })
    app.get('/', (c) => {
      c.header('x-both', 'from c')
      return new Response('r', { status: 201, headers: { 'x-r': 'from response', 'x-both': 'from response', 'content-type': 'text/x-r' } })
    })
    const res = await app.request('/')
    assert.equal(res.status, 201)
    assert.deepEqual(seen, ['from response', 'from c', true, false, 201, 'text/x-r'])
  })

  it('appends to Vary once, and leaves Vary: * alone', async () => {
    const app = new Carafe()
    app.get('/', (c) => { appendVary(c, 'Origin'); appendVary(c, 'origin'); appendVary(c, 'Accept-Encoding'); return 'a' })
    app.get('/star', (c) => { c.header('vary', '*'); appendVary(c, 'Origin'); return 'b' })
    app.get('/list', (c) => { c.header('vary', 'Cookie'); c.header('vary', 'Accept', { append: true }); appendVary(c, 'Origin'); return 'c' })
    assert.equal((await app.request('/')).headers.get('vary'), 'Origin, Accept-Encoding')
    assert.equal((await app.request('/star')).headers.get('vary'), '*')
    assert.equal((await app.request('/list')).headers.get('vary'), 'Cookie, Accept, Origin')
  })
})
