import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { compress } from '../../src/middleware/compress.js'
import { formatEvent } from '../../src/realtime/sse.js'
import { memoryPubSub, type PubSub } from '../../src/realtime/pubsub.js'
import { serve } from '../helpers/server.js'
import { until } from './helpers.js'

/** Read `res`'s body until it holds `marker`; returns the text so far (the body stays open). */
async function readUntil(res: Response, marker: string, ms = 3000): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = res.body!.getReader()
  const dec = new TextDecoder()
  let text = ''
  const end = Date.now() + ms
  while (!text.includes(marker)) {
    if (Date.now() > end) throw new Error(`no ${JSON.stringify(marker)} in ${JSON.stringify(text)}`)
    const { value, done } = await reader.read()
    if (done) break
    text += dec.decode(value, { stream: true })
  }
  return { text, reader }
}

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

describe('c.sse()', () => {
  it('writes events in the exact wire format, with the stream headers, through both doors', async (t) => {
    const app = new Carafe()
    app.get('/events', (c) => c.sse(async (stream) => {
      await stream.send({ event: 'greet', id: 1, data: 'line one\nline two' })
      await stream.send({ data: { x: 1, s: 'é' } })
      await stream.send('plain')
      await stream.send({ retry: 2500 })
      await stream.comment('note')
    }))
    const expected = ':\n\nevent: greet\nid: 1\ndata: line one\ndata: line two\n\ndata: {"x":1,"s":"é"}\n\ndata: plain\n\nretry: 2500\n\n: note\n\n'
    const s = await serve(t, app)
    const res = await fetch(s.url + '/events')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.equal(res.headers.get('cache-control'), 'no-cache')
    assert.equal(res.headers.get('x-accel-buffering'), 'no')
    assert.equal(Buffer.from(await res.arrayBuffer()).toString('utf8'), expected)
    assert.equal(await (await app.request('/events')).text(), expected)
  })

  it('refuses a line break in event or id (no event injection)', () => {
    assert.throws(() => formatEvent({ event: 'a\ndata: x', data: 1 }), /line break/)
    assert.throws(() => formatEvent({ id: '1\r\n', data: 1 }), /line break/)
    assert.equal(formatEvent({ data: 'a\r\nb\rc' }), 'data: a\ndata: b\ndata: c\n\n')
  })

  it('hands the Last-Event-ID header to the handler', async (t) => {
    const app = new Carafe()
    app.get('/events', (c) => c.sse((stream) => stream.send({ data: stream.lastEventId ?? 'none' })))
    const s = await serve(t, app)
    assert.equal(await (await fetch(s.url + '/events', { headers: { 'last-event-id': '42' } })).text(), ':\n\ndata: 42\n\n')
    assert.equal(await (await fetch(s.url + '/events')).text(), ':\n\ndata: none\n\n')
  })

  it('sends heartbeat comments at the given interval', async (t) => {
    const app = new Carafe()
    app.get('/events', (c) => c.sse((stream) => new Promise<void>((resolve) => stream.onClose(resolve)), { heartbeat: 20 }))
    const s = await serve(t, app)
    const ctl = new AbortController()
    const res = await fetch(s.url + '/events', { signal: ctl.signal })
    const { text } = await readUntil(res, ': ping\n\n: ping\n\n')
    assert.ok(text.startsWith(':\n\n: ping\n\n'))
    ctl.abort()
  })

  it('closes promptly when the client leaves: onClose runs, send resolves false, the signal aborts, no timer is left', async (t) => {
    const app = new Carafe()
    const seen = { closed: false, lastSend: true as boolean, aborted: false, sends: 0 }
    app.get('/events', (c) => c.sse(async (stream) => {
      stream.onClose(() => { seen.closed = true })
      stream.signal.addEventListener('abort', () => { seen.aborted = true })
      while (await stream.send({ data: 'tick' })) {
        seen.sends++
        await new Promise((r) => setTimeout(r, 5))
      }
      seen.lastSend = false
    }, { heartbeat: 1000 }))
    const s = await serve(t, app)
    const before = timeouts()
    const ctl = new AbortController()
    const res = await fetch(s.url + '/events', { signal: ctl.signal })
    await readUntil(res, 'data: tick\n\ndata: tick')
    ctl.abort()
    await until(() => seen.closed && !seen.lastSend && seen.aborted, 3000, 'the stream to close')
    const sends = seen.sends
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(seen.sends, sends)
    await until(() => timeouts() <= before, 2000, 'the heartbeat timer to be cleared')
  })

  it('is not compressed by compress()', async (t) => {
    const app = new Carafe()
    app.use(compress({ threshold: 1 }))
    app.get('/events', (c) => c.sse((stream) => stream.send({ data: 'x'.repeat(5000) })))
    app.get('/page', () => 'y'.repeat(5000))
    const s = await serve(t, app)
    const page = await fetch(s.url + '/page', { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(page.headers.get('content-encoding'), 'gzip')
    const res = await fetch(s.url + '/events', { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(res.headers.get('content-encoding'), null)
    assert.equal(await res.text(), `:\n\ndata: ${'x'.repeat(5000)}\n\n`)
  })

  it('delivers app.publish() to the streams subscribed to the topic, and unsubscribes when the client leaves', async (t) => {
    const bus = memoryPubSub()
    let active = 0
    const pubsub: PubSub = {
      publish: (topic, m) => bus.publish(topic, m),
      subscribe(topic, fn) {
        active++
        const off = bus.subscribe(topic, fn)
        return () => { active--; off() }
      },
    }
    const app = new Carafe({ pubsub })
    app.get('/news', (c) => c.sse((stream) => {
      stream.subscribe('news', (m) => ({ event: 'news', data: m }))
      void stream.send({ data: 'ready' })
    }))
    const s = await serve(t, app)
    const ctl = new AbortController()
    const res = await fetch(s.url + '/news', { signal: ctl.signal })
    const { reader } = await readUntil(res, 'data: ready')
    app.publish('news', { headline: 'hi' })
    const dec = new TextDecoder()
    let text = ''
    while (!text.includes('headline')) text += dec.decode((await reader.read()).value)
    assert.equal(text, 'event: news\ndata: {"headline":"hi"}\n\n')
    assert.equal(active, 1)
    ctl.abort()
    await until(() => active === 0, 3000, 'the subscription to be dropped')
  })
})
