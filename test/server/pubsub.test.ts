import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { processPubSub, redisPubSub } from '../../src/realtime/transports.js'

type TopicMessage = unknown
import { appDir, spawnCli } from '../helpers/spawn.js'
import { needService, SERVICES, uniqueName } from '../helpers/services.js'
import { TcpProxy } from '../db/proxy.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await sleep(20)
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve(body))
    }).on('error', reject)
  })
}

describe('pub/sub transports', { timeout: 60_000 }, () => {
  it('processPubSub delivers in this process, to every subscriber of the topic only, until unsubscribed', () => {
    const bus = processPubSub()
    const got: TopicMessage[] = []
    const off = bus.subscribe('room:1', (m) => got.push(m))
    bus.subscribe('room:2', () => got.push('wrong topic'))
    bus.publish('room:1', { text: 'hi' })
    off()
    bus.publish('room:1', 'after unsubscribe')
    assert.deepEqual(got, [{ text: 'hi' }])
  })

  it('under carafe start, a message published in one worker reaches the subscribers of every worker (through the supervisor, no service)', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    const pubsub = path.join(path.dirname(new URL(import.meta.url).pathname), '../../src/realtime/transports.js')
    await writeFile(file, `import { Carafe } from 'carafe'
import { processPubSub } from ${JSON.stringify(pubsub)}
const bus = processPubSub()
let last = '-'
bus.subscribe('news', (m) => { last = String(m) })
const app = new Carafe()
app.get('/pub/<word>', (c) => { bus.publish('news', c.params.word); return 'sent ' + process.pid })
app.get('/last', () => last + ' ' + process.pid)
export default app
`)
    const p = spawnCli(t, ['start', file, '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--log', 'off'], { CARAFE_SECRET: 'pubsub-tests-secret-0123456789abcdefghijklmnopq' })
    const m = await p.waitFor(/Serving HTTP on \S+ port (\d+)/, 15_000)
    await p.waitFor(/(?:[^]*?\) ready){2}/, 20_000, 'stderr')
    const url = `http://127.0.0.1:${m[1]}`
    await get(`${url}/pub/hello`)
    await sleep(200)
    const answers = new Map<string, string>()
    for (let i = 0; i < 6; i++) {
      const [word, pid] = (await get(`${url}/last`)).split(' ')
      answers.set(pid!, word!)
    }
    assert.equal(answers.size, 2, 'both workers answered')
    assert.deepEqual([...answers.values()], ['hello', 'hello'])
    p.child.kill('SIGTERM')
    await p.exited
  })

  it('redisPubSub crosses instances; while Redis is away local delivery goes on, and delivery across instances resumes after it is back', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const proxy = new TcpProxy({ host: SERVICES.redis.host, port: SERVICES.redis.port })
    await proxy.start()
    t.after(() => proxy.cut())
    const prefix = `${uniqueName('pubsub')}:`
    const a = redisPubSub({ url: `redis://${proxy.url}`, prefix })
    const b = redisPubSub({ url: `redis://${proxy.url}`, prefix })
    t.after(async () => { await a.close?.(); await b.close?.() })
    const atA: TopicMessage[] = []
    const atB: TopicMessage[] = []
    a.subscribe('chat', (m) => atA.push(m))
    b.subscribe('chat', (m) => atB.push(m))
    await sleep(300)
    a.publish('chat', { n: 1 })
    await until(() => atB.length === 1)
    assert.deepEqual(atA, [{ n: 1 }], 'delivered locally once (its own message from Redis is skipped)')
    assert.deepEqual(atB, [{ n: 1 }])

    await proxy.cut()
    await sleep(200)
    a.publish('chat', { n: 2 })
    assert.deepEqual(atA, [{ n: 1 }, { n: 2 }], 'local delivery does not wait for Redis')
    await proxy.restore()
    // node-redis reconnects (backoff up to 5 s) and resubscribes.
    const end = Date.now() + 15_000
    let n = 3
    while (!atB.some((m) => typeof m === 'object' && m !== null && (m as { n: number }).n >= 3)) {
      assert.ok(Date.now() < end, 'delivery across instances resumed')
      a.publish('chat', { n: n++ })
      await sleep(250)
    }
    assert.ok(!atB.some((m) => (m as { n: number }).n === 2), 'what was published while Redis was away is not replayed')
  })
})
