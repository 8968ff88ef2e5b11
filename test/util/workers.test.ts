import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { CarafeError } from '../../src/index.js'
import { memoryStore, session } from '../../src/session/index.js'
import { rateLimit } from '../../src/auth/index.js'
import { workerCount } from '../../src/util/workers.js'

/** Set CARAFE_WORKERS for this test only. */
function workers(t: TestContext, value: string | undefined): void {
  const before = process.env.CARAFE_WORKERS
  if (value === undefined) delete process.env.CARAFE_WORKERS
  else process.env.CARAFE_WORKERS = value
  t.after(() => {
    if (before === undefined) delete process.env.CARAFE_WORKERS
    else process.env.CARAFE_WORKERS = before
  })
}

function perProcess(pattern: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof CarafeError && e.code === 'ERR_PER_PROCESS_STATE' && /CARAFE_WORKERS=2/.test(e.message) && pattern.test(e.message)
}

describe('per-process state with several workers', () => {
  it('reads CARAFE_WORKERS', () => {
    assert.equal(workerCount({}), 1)
    assert.equal(workerCount({ CARAFE_WORKERS: '4' }), 4)
    assert.equal(workerCount({ CARAFE_WORKERS: 'many' }), 1)
  })

  it('refuses memoryStore(), and session() with its default store, naming the shared stores', (t) => {
    workers(t, '2')
    assert.throws(() => memoryStore(), perProcess(/redisStore\(\{ url \}\).*sqliteStore\(\).*perProcess: true/))
    assert.throws(() => session(), perProcess(/redisStore/))
  })

  it('allows memoryStore({ perProcess: true }) with several workers, and memoryStore() with one', async (t) => {
    workers(t, '2')
    await memoryStore({ perProcess: true }).close?.()
    process.env.CARAFE_WORKERS = '1'
    await memoryStore().close?.()
  })

  it("refuses an in-memory rateLimit(), naming store: { redis }", (t) => {
    workers(t, '2')
    assert.throws(() => rateLimit({ window: '1m', max: 5 }), perProcess(/store: \{ redis/))
    assert.throws(() => rateLimit({ window: '1m', max: 5, store: 'memory' }), perProcess(/perProcess: true/))
  })

  it('allows rateLimit({ perProcess: true }) and a Redis store with several workers', async (t) => {
    workers(t, '2')
    await rateLimit({ window: '1m', max: 5, perProcess: true }).close()
    // Made, not connected: a Redis limiter opens its client on first use.
    await rateLimit({ window: 60, max: 5, store: { redis: 'redis://127.0.0.1:6379' } }).close()
    delete process.env.CARAFE_WORKERS
    await rateLimit({ window: '1m', max: 5 }).close()
  })
})

describe('assertPeerInstalled', () => {
  it('says which package to install, without loading anything, when a peer is missing; passes for an installed one', async () => {
    const { assertPeerInstalled } = await import('../../src/util/peer.js')
    assert.throws(() => assertPeerInstalled('carafe-no-such-package', 'carafe-no-such-package@^1', 'app.thing()'), (e: NodeJS.ErrnoException) =>
      e.code === 'ERR_MISSING_DEPENDENCY' && e.message === 'app.thing() needs the carafe-no-such-package package, which is not installed: run `npm install carafe-no-such-package@^1` to use app.thing()')
    assert.doesNotThrow(() => assertPeerInstalled('ws', 'ws@^8.17.1', 'app.ws()'))
  })
})
