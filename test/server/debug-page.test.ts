import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'

function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.error
  console.error = () => {}
  return fn().finally(() => { console.error = original })
}

describe('debug page', () => {
  it('shows the error, the source lines around each frame and the request to a loopback client', async () => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => {
      const marker = 'the line that throws'
      throw new Error(`kaboom: ${marker}`)
    })
    const res = await quiet(() => app.request('/boom?x=1', { headers: { 'x-probe': 'yes' } }))
    assert.equal(res.status, 500)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    const html = await res.text()
    assert.match(html, /Error: kaboom: the line that throws/)
    assert.match(html, /const marker = &#39;the line that throws&#39;/)
    assert.match(html, /x-probe/)
    assert.match(html, /GET http:\/\/localhost\/boom\?x=1/)
  })

  it('is never shown to a non-loopback client', async () => {
    const app = new Carafe({ debug: true })
    app.get('/boom', () => { throw new Error('kaboom secret') })
    const res = await quiet(() => app.fetch(new Request('http://example.com/boom'), { remoteAddress: '203.0.113.9' }))
    assert.equal(res.status, 500)
    assert.doesNotMatch(await res.text(), /kaboom|secret|at /)
  })

  it('is off by default', async () => {
    const app = new Carafe()
    app.get('/boom', () => { throw new Error('kaboom secret') })
    const res = await quiet(() => app.request('/boom'))
    assert.doesNotMatch(await res.text(), /kaboom/)
  })
})
