import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AppLogger, Carafe, CarafeError } from '../../src/index.js'
import { captureErrors } from '../helpers/capture.js'

/** An app whose log lines land in `lines`, parsed. */
function logged(options: ConstructorParameters<typeof Carafe>[0] = {}): { app: Carafe; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const app = new Carafe({ ...options, logger: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), ...options.logger } })
  return { app, lines }
}

describe('c.log', () => {
  it('writes JSON lines with the time, level, message, request id, method, path and fields', async () => {
    const { app, lines } = logged()
    app.post('/orders/<int:id>', (c) => {
      c.log.info('order paid', { orderId: c.params.id })
      return c.requestId
    })
    const res = await app.request('/orders/7?x=1', { method: 'POST' })
    const id = await res.text()
    assert.equal(lines.length, 1)
    const [line] = lines
    assert.deepEqual(Object.keys(line!), ['time', 'level', 'msg', 'requestId', 'method', 'path', 'orderId'])
    assert.equal(line!.level, 'info')
    assert.equal(line!.msg, 'order paid')
    assert.equal(line!.requestId, id)
    assert.equal(line!.method, 'POST')
    assert.equal(line!.path, '/orders/7')
    assert.equal(line!.orderId, 7)
    assert.ok(!Number.isNaN(Date.parse(line!.time as string)))
  })

  it('drops lines below the level, and a field cannot fake the level or the request id', async () => {
    const { app, lines } = logged({ logger: { level: 'warn' } })
    app.get('/', (c) => {
      c.log.debug('d')
      c.log.info('i')
      c.log.warn('w', { level: 'debug', requestId: 'forged', extra: 1 })
      c.log.error('e', { error: Object.assign(new Error('boom'), { code: 'E_BOOM' }), big: 10n })
      return 'ok'
    })
    await app.request('/')
    assert.deepEqual(lines.map((l) => l.msg), ['w', 'e'])
    assert.equal(lines[0]!.level, 'warn')
    assert.notEqual(lines[0]!.requestId, 'forged')
    assert.equal(lines[0]!.extra, 1)
    const error = lines[1]!.error as Record<string, unknown>
    assert.equal(error.message, 'boom')
    assert.equal(error.code, 'E_BOOM')
    assert.match(error.stack as string, /boom/)
    assert.equal(lines[1]!.big, '10')
  })

  it('takes its level from CARAFE_LOG_LEVEL and refuses an unknown one', () => {
    const lines: string[] = []
    const log = new AppLogger({ write: (l) => lines.push(l) }, { CARAFE_LOG_LEVEL: 'ERROR' })
    assert.equal(log.level, 'error')
    log.warn('no')
    log.error('yes')
    assert.equal(lines.length, 1)
    assert.throws(() => new AppLogger(undefined, { CARAFE_LOG_LEVEL: 'loud' }), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_LOG_LEVEL' && /CARAFE_LOG_LEVEL/.test(e.message))
  })

  it('logs app-level lines without request fields through app.log', () => {
    const { app, lines } = logged()
    app.log.info('started', { port: 8000 })
    assert.deepEqual(Object.keys(lines[0]!), ['time', 'level', 'msg', 'port'])
  })

  it('logs the error of a 500 through the logger, with the request id, when one is configured', async () => {
    const { app, lines } = logged()
    app.get('/boom', () => { throw new Error('kaput') })
    const { value: res, logged: printed } = await captureErrors(() => app.request('/boom', { headers: { accept: 'application/json' } }))
    assert.equal(res.status, 500)
    assert.equal(printed, '')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]!.level, 'error')
    assert.equal(lines[0]!.msg, 'request failed')
    assert.equal(typeof lines[0]!.requestId, 'string')
    assert.equal((lines[0]!.error as { message: string }).message, 'kaput')
  })

  it('prints the error of a 500 as before when no logger is configured', async () => {
    const app = new Carafe()
    app.get('/boom', () => { throw new Error('kaput') })
    const { logged: printed } = await captureErrors(() => app.request('/boom'))
    assert.match(printed, /\[carafe\] GET \/boom failed: Error: kaput/)
  })
})
