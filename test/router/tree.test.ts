import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, CarafeError } from '../../src/index.js'

async function get(app: Carafe, path: string, init?: RequestInit): Promise<[number, string]> {
  const res = await app.request(path, init)
  return [res.status, await res.text()]
}

describe('router', () => {
  it('matches static segments before parameters, whatever the declaration order', async () => {
    const app = new Carafe()
    app.get('/users/<id>', (c) => `param ${c.params.id}`)
    app.get('/users/new', () => 'static new')
    app.get('/a/<x>/c', (c) => `x=${c.params.x}`)
    app.get('/a/b/<y>', (c) => `y=${c.params.y}`)
    assert.deepEqual(await get(app, '/users/new'), [200, 'static new'])
    assert.deepEqual(await get(app, '/users/42'), [200, 'param 42'])
    assert.deepEqual(await get(app, '/a/b/d'), [200, 'y=d'])
    // backtracks from the static branch b when it fails deeper down
    assert.deepEqual(await get(app, '/a/b/c'), [200, 'y=c'])
    assert.deepEqual(await get(app, '/a/z/c'), [200, 'x=z'])
  })

  it('accepts the three spellings, mixed in one pattern', async () => {
    const app = new Carafe()
    app.get('/r/:a/<b>/<int:c>', (c) => c.params)
    assert.deepEqual(await (await app.request('/r/x/y/3')).json(), { a: 'x', b: 'y', c: 3 })
  })

  it('converts with int, float, path, uuid, any and string(length)', async () => {
    const app = new Carafe()
    app.get('/i/<int:n>', (c) => ({ n: c.params.n }))
    app.get('/f/<float:x>', (c) => ({ x: c.params.x }))
    app.get('/p/<path:rest>', (c) => ({ rest: c.params.rest }))
    app.get('/u/<uuid:u>', (c) => ({ u: c.params.u }))
    app.get('/any/<any(about, help):page>', (c) => ({ page: c.params.page }))
    app.get('/code/<string(length=2):code>', (c) => ({ code: c.params.code }))
    app.get('/bounded/<int(min=1, max=9):n>', (c) => ({ n: c.params.n }))
    assert.deepEqual(await (await app.request('/i/12')).json(), { n: 12 })
    assert.equal((await app.request('/i/1.5')).status, 404)
    assert.equal((await app.request('/i/99999999999999999999')).status, 404)
    assert.deepEqual(await (await app.request('/f/1.5')).json(), { x: 1.5 })
    assert.equal((await app.request('/f/2')).status, 404)
    assert.deepEqual(await (await app.request('/p/a/b/c.txt')).json(), { rest: 'a/b/c.txt' })
    assert.deepEqual(await (await app.request('/u/123e4567-e89b-12d3-a456-426614174000')).json(), { u: '123e4567-e89b-12d3-a456-426614174000' })
    assert.equal((await app.request('/u/not-a-uuid')).status, 404)
    assert.deepEqual(await (await app.request('/any/help')).json(), { page: 'help' })
    assert.equal((await app.request('/any/other')).status, 404)
    assert.deepEqual(await (await app.request('/code/ko')).json(), { code: 'ko' })
    assert.equal((await app.request('/code/kor')).status, 404)
    assert.equal((await app.request('/bounded/0')).status, 404)
    assert.deepEqual(await (await app.request('/bounded/9')).json(), { n: 9 })
  })

  it('supports custom converters', async () => {
    const app = new Carafe({ converters: { hex: () => ({ regex: '[0-9a-f]+', parse: (t) => parseInt(t, 16), format: (v) => (v as number).toString(16) }) } })
    app.get('/color/<hex:c>', (c) => ({ c: c.params.c }), { name: 'color' })
    assert.deepEqual(await (await app.request('/color/ff')).json(), { c: 255 })
    assert.equal((await app.request('/color/zz')).status, 404)
    assert.equal(app.url('color', { c: 255 }), '/color/ff')
  })

  it('matches parameters inside a segment (<name>.html, :a-:b)', async () => {
    const app = new Carafe()
    app.get('/page/<name>.html', (c) => c.params.name)
    app.get('/d/:year-:month', (c) => `${c.params.year}/${c.params.month}`)
    assert.deepEqual(await get(app, '/page/intro.html'), [200, 'intro'])
    assert.deepEqual(await get(app, '/d/2024-05'), [200, '2024/05'])
    assert.equal((await app.request('/page/intro.txt')).status, 404)
  })

  it('percent-decodes parameters as UTF-8 and refuses malformed encodings with 400', async () => {
    const app = new Carafe()
    app.get('/subpage/<thing>', (c) => c.params.thing)
    app.get('/카페', () => 'korean static')
    assert.deepEqual(await get(app, '/subpage/%EB%82%98%EC%9D%98%20%EB%B9%84%EB%B0%80%20%EB%B0%A9'), [200, '나의 비밀 방'])
    assert.deepEqual(await get(app, '/subpage/a%2Fb'), [200, 'a/b'])
    assert.deepEqual(await get(app, `/${encodeURIComponent('카페')}`), [200, 'korean static'])
    const [status, body] = await get(app, '/subpage/%E0%A4%A')
    assert.equal(status, 400)
    assert.match(body, /malformed percent-encoding/)
    assert.equal((await app.request('/subpage/%C0%AF')).status, 400) // overlong UTF-8 for "/"
  })

  it('refuses a second route with the same shape and method (ERR_ROUTE_CONFLICT)', () => {
    const app = new Carafe()
    app.get('/users/<id>', () => 'a')
    assert.throws(() => app.get('/users/<name>', () => 'b'), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_ROUTE_CONFLICT')
    app.post('/users/<name>', () => 'post is fine')
  })

  it('refuses bad patterns with a clear error', () => {
    const app = new Carafe()
    assert.throws(() => app.get('no-slash', () => ''), /must start with "\/"/)
    assert.throws(() => app.get('/x/<nope:y>', () => ''), /unknown converter "nope"/)
    assert.throws(() => app.get('/x/<path:p>/edit', () => ''), /must be the last part/)
    assert.throws(() => app.get('/x/<a>/<a>', () => ''), /appears twice/)
  })

  it('answers 405 with Allow for a known path and a wrong method, and OPTIONS automatically', async () => {
    const app = new Carafe()
    app.get('/thing', () => 'get')
    app.post('/thing', () => 'post')
    const res = await app.request('/thing', { method: 'DELETE' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, HEAD, POST, OPTIONS')
    const opt = await app.request('/thing', { method: 'OPTIONS' })
    assert.equal(opt.status, 204)
    assert.equal(opt.headers.get('allow'), 'GET, HEAD, POST, OPTIONS')
    assert.equal((await app.request('/other')).status, 404)
  })

  it('lets app.all() answer any method', async () => {
    const app = new Carafe()
    app.all('/any', (c) => c.method)
    assert.deepEqual(await get(app, '/any', { method: 'PATCH' }), [200, 'PATCH'])
  })

  it("applies Flask's slash rule: /subpage answers 308 to /subpage/ with the query kept", async () => {
    const app = new Carafe()
    app.get('/subpage/', () => 'slash')
    app.get('/about', () => 'about')
    const res = await app.request('/subpage?thing=a%20b')
    assert.equal(res.status, 308)
    assert.equal(res.headers.get('location'), '/subpage/?thing=a%20b')
    assert.equal((await app.request('/about/')).status, 404)
    const off = new Carafe({ redirectSlashes: false })
    off.get('/subpage/', () => 'slash')
    assert.equal((await off.request('/subpage')).status, 404)
  })

  it('never turns the slash redirect into a scheme-relative (open) redirect', async () => {
    const app = new Carafe()
    app.get('/evil.example/', () => 'x')
    const res = await app.request('http://localhost//evil.example')
    assert.equal(res.status, 308)
    assert.equal(res.headers.get('location'), '/evil.example/')
  })

  it('builds reverse URLs for named routes, with encoding and extra params as query', () => {
    const app = new Carafe()
    app.get('/subpage/<thing>', function subpage() { return '' })
    app.get('/files/<path:p>', () => '', { name: 'files' })
    app.get('/u/<int:id>', () => '', { name: 'user' })
    assert.equal(app.url('subpage', { thing: '나의 비밀 방' }), '/subpage/%EB%82%98%EC%9D%98%20%EB%B9%84%EB%B0%80%20%EB%B0%A9')
    assert.equal(app.url('files', { p: 'a b/c' }), '/files/a%20b/c')
    assert.equal(app.url('user', { id: 3, tab: 'x' }), '/u/3?tab=x')
    assert.throws(() => app.url('user', {}), /needs a value for "id"/)
    assert.throws(() => app.url('nope'), /no route is named "nope"/)
  })
})
