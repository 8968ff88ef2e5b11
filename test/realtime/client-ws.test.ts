import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { testClient } from '../../src/testing/client.js'
import { SECRET } from '../auth/helpers.js'

describe('testClient(app).ws()', () => {
  it('opens a WebSocket with the jar cookies, queues early messages, and reports a refusal with its status', async (t) => {
    const app = new Carafe({ secrets: [SECRET] })
    app.use(session())
    app.post('/name/<n>', (c) => { c.session.set('name', c.params.n); return { ok: true } })
    app.ws('/hello', {
      open(ws, c) { ws.send(`hi ${String(c.session.get('name'))}`) },
      message(ws, data) { ws.json({ echo: data }) },
    })
    const client = testClient(app)
    t.after(() => client.close())
    await client.post('/name/ann')
    const ws = await client.ws('/hello')
    assert.equal(await ws.next(), 'hi ann')
    ws.send('x')
    assert.deepEqual(await ws.nextJson(), { echo: 'x' })
    assert.equal((await ws.close()).code, 1000)
    const origError = console.error
    console.error = () => {}
    t.after(() => { console.error = origError })
    await assert.rejects(client.ws('/nope'), (e: { code?: string; status?: number }) => e.code === 'ERR_WS_REFUSED' && e.status === 404)
    await assert.rejects(client.ws('/hello', { origin: 'https://evil.example' }), (e: { status?: number }) => e.status === 403)
  })
})
