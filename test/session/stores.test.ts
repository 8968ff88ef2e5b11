import { createHook } from 'node:async_hooks'
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type BetterSqlite3 from 'better-sqlite3'
import { createClient } from 'redis'
import { CarafeError } from '../../src/core/errors.js'
import { cookieStore, memoryStore, redisStore, sqliteStore, SessionStoreError, type SessionStore } from '../../src/session/index.js'
import { requirePeer } from '../../src/util/peer.js'
import { SERVICES, needService } from '../helpers/services.js'
import { describeStoreConformance, freshId, testEnv } from './conformance.js'
import { redisTestPrefix } from './redis-keys.js'

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3

/** A temporary folder, removed when the test ends. */
async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-stores-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describeStoreConformance('memoryStore', { make: () => memoryStore() })

describeStoreConformance('sqliteStore', {
  make: async (t, defer) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-stores-'))
    defer(() => rm(dir, { recursive: true, force: true }))
    return sqliteStore({ path: path.join(dir, 'conformance.db') })
  },
})

describeStoreConformance('redisStore', {
  available: (t) => needService(t, 'redis'),
  make: (t) => redisStore({ url: SERVICES.redis.url, prefix: redisTestPrefix(t) }),
})

describeStoreConformance('cookieStore', { make: () => cookieStore() })

describe('memoryStore', () => {
  it('stays bounded: past max, the least recently used session goes first', async () => {
    const store = memoryStore({ max: 3 })
    const ids = [freshId(), freshId(), freshId(), freshId(), freshId()]
    for (const id of ids.slice(0, 3)) await store.apply(id, { set: { id }, create: true }, 60)
    await store.touch(ids[0]!, 60) // used again: now the youngest
    for (const id of ids.slice(3)) await store.apply(id, { set: { id }, create: true }, 60)
    assert.equal(store.size, 3)
    assert.equal(await store.get(ids[1]!), undefined, 'the least recently used went first')
    assert.equal(await store.get(ids[2]!), undefined)
    for (const id of [ids[0]!, ids[3]!, ids[4]!]) assert.ok((await store.get(id)) !== undefined)
    await store.close?.()
  })

  it('purges expired sessions on its timer, without being read', async () => {
    const store = memoryStore({ sweepInterval: 0.2 })
    for (let i = 0; i < 20; i++) await store.apply(freshId(), { set: { i }, create: true }, 1)
    assert.equal(store.size, 20)
    await sleep(1500)
    assert.equal(store.size, 0)
    await store.close?.()
  })
})

describe('sqliteStore', () => {
  it('keeps sessions across a close and a new store on the same file', async (t) => {
    const dir = await tempDir(t)
    const env = testEnv(undefined, dir)
    const id = freshId()
    const first = sqliteStore({ path: 'nested/folder/sessions.db' })
    await first.open(env)
    await first.apply(id, { set: { user: 7, name: '은비' }, create: true }, 600)
    await first.close()
    assert.ok((await stat(path.join(dir, 'nested/folder/sessions.db'))).isFile(), 'a relative path resolves against the app root; its folder is made')
    const second = sqliteStore({ path: 'nested/folder/sessions.db' })
    await second.open(env)
    const got = await second.get(id)
    assert.deepEqual(got?.data, { user: 7, name: '은비' })
    assert.ok(got!.expires - Date.now() > 590_000)
    await second.close()
  })

  it('shares one file between connections (worker processes): changes of different keys from both are kept', async (t) => {
    const dir = await tempDir(t)
    const file = path.join(dir, 'shared.db')
    const a = sqliteStore({ path: file })
    const b = sqliteStore({ path: file })
    await a.open(testEnv())
    await b.open(testEnv())
    const id = freshId()
    await a.apply(id, { set: { base: 1 }, create: true }, 60)
    await Promise.all([a.apply(id, { set: { fromA: 1 } }, 60), b.apply(id, { set: { fromB: 2 } }, 60), a.apply(id, { delete: ['base'] }, 60)])
    assert.deepEqual((await b.get(id))?.data, { fromA: 1, fromB: 2 })
    const db = new Database(file, { readonly: true })
    assert.equal((db.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal')
    db.close()
    await a.close()
    await b.close()
  })

  it('purges expired rows (on its timer and with purge()) and never returns them meanwhile', async (t) => {
    const dir = await tempDir(t)
    const file = path.join(dir, 'purge.db')
    const store = sqliteStore({ path: file, table: 'my_sessions', purgeInterval: 0.5 })
    await store.open(testEnv())
    const live = freshId()
    await store.apply(live, { set: { live: true }, create: true }, 600)
    for (let i = 0; i < 5; i++) await store.apply(freshId(), { set: { i }, create: true }, 1)
    const rows = (): number => {
      const db = new Database(file, { readonly: true })
      try {
        return (db.prepare('SELECT count(*) AS n FROM my_sessions').get() as { n: number }).n
      } finally {
        db.close()
      }
    }
    assert.equal(rows(), 6)
    await sleep(1700)
    assert.equal(rows(), 1, 'the timer deleted the expired rows')
    for (let i = 0; i < 3; i++) await store.apply(freshId(), { set: { i }, create: true }, 0)
    assert.equal(rows(), 4, 'rows written already expired are still on disk')
    assert.equal(await store.purge(), 3)
    assert.equal(rows(), 1)
    assert.deepEqual((await store.get(live))?.data, { live: true })
    await store.close()
  })

  it('turns a locked file into a SessionStoreError (a 503), and works again once the lock is gone', async (t) => {
    const dir = await tempDir(t)
    const file = path.join(dir, 'locked.db')
    const store = sqliteStore({ path: file, busyTimeout: 50 })
    await store.open(testEnv())
    const id = freshId()
    await store.apply(id, { set: { a: 1 }, create: true }, 60)
    const other = new Database(file)
    other.exec('BEGIN EXCLUSIVE')
    await assert.rejects(store.apply(id, { set: { a: 2 } }, 60), (e: unknown) => e instanceof SessionStoreError && /locked|busy/i.test(e.message))
    other.exec('COMMIT')
    other.close()
    await store.apply(id, { set: { a: 3 } }, 60)
    assert.deepEqual((await store.get(id))?.data, { a: 3 })
    await store.close()
  })

  it('refuses a table name that is not a plain SQL name, and a store used before open()', async (t) => {
    assert.throws(() => sqliteStore({ table: 'x"; DROP TABLE y; --' }), TypeError)
    await assert.rejects(sqliteStore().get(freshId()), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_STORE_NOT_OPEN')
    const dir = await tempDir(t)
    // A folder where the file should be: a clear SessionStoreError at open.
    await assert.rejects(sqliteStore({ path: dir }).open(testEnv()), (e: unknown) => e instanceof SessionStoreError && e.message.includes(dir))
  })
})

describe('redisStore', () => {
  const connectRaw = async () => {
    const c = createClient({ url: SERVICES.redis.url })
    c.on('error', () => {})
    await c.connect()
    return c
  }

  it('keeps each session in one hash under the prefix, keyed by the hashed id, its TTL in step with the expiry', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const redisPrefix = redisTestPrefix(t)
    const store = redisStore({ url: SERVICES.redis.url, prefix: redisPrefix })
    await store.open()
    t.after(() => store.close())
    const raw = await connectRaw()
    t.after(() => raw.close())
    const id = freshId()
    await store.apply(id, { set: { user: 1, roles: ['admin'] }, create: true }, 100)
    const key = redisPrefix + id
    assert.equal(await raw.type(key), 'hash')
    assert.deepEqual(await raw.hGetAll(key), { '': '1', user: '1', roles: '["admin"]' })
    const check = async (seconds: number): Promise<void> => {
      const pttl = await raw.pTTL(key)
      const got = await store.get(id)
      assert.ok(Math.abs(pttl - seconds * 1000) < 1500, `PTTL ${pttl} is about ${seconds} s`)
      assert.ok(Math.abs(got!.expires - Date.now() - pttl) < 1500, 'get reports the TTL Redis holds')
    }
    await check(100)
    await store.touch(id, 500)
    await check(500)
    await store.apply(id, { set: { user: 2 } }, 50)
    await check(50)
    await store.destroy(id)
    assert.equal(await raw.exists(key), 0)
  })

  it('reads a session without a TTL (written from outside) as missing and removes it', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const redisPrefix = redisTestPrefix(t)
    const store = redisStore({ url: SERVICES.redis.url, prefix: redisPrefix })
    await store.open()
    t.after(() => store.close())
    const raw = await connectRaw()
    t.after(() => raw.close())
    const id = freshId()
    await raw.hSet(redisPrefix + id, { '': '1', a: '1' })
    assert.equal(await store.get(id), undefined)
    assert.equal(await raw.exists(redisPrefix + id), 0)
  })

  it('refuses the empty key (it marks the session) with a TypeError', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const redisPrefix = redisTestPrefix(t)
    const store = redisStore({ url: SERVICES.redis.url, prefix: redisPrefix })
    await store.open()
    t.after(() => store.close())
    await assert.rejects(store.apply(freshId(), { set: { '': 1 }, create: true }, 60), TypeError)
  })

  it('fails fast with a SessionStoreError when Redis is not there, and starts anyway', async (t) => {
    // A port nothing listens on.
    const { createServer } = await import('node:net')
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    const store = redisStore({ url: `redis://:hunter2@127.0.0.1:${port}`, timeout: 300 })
    const { captureErrors } = await import('../helpers/capture.js')
    const { logged } = await captureErrors(async () => {
      await store.open()
      t.after(() => store.close())
      const start = Date.now()
      await assert.rejects(store.get(freshId()), (e: unknown) => e instanceof SessionStoreError && e.message.includes(`127.0.0.1:${port}`) && !e.message.includes('hunter2'))
      await assert.rejects(store.apply(freshId(), { set: { a: 1 }, create: true }, 60), SessionStoreError)
      assert.ok(Date.now() - start < 250, 'no waiting for a connection: the commands fail at once')
    })
    assert.match(logged, /redisStore: .*unreachable.*503/)
    assert.doesNotMatch(logged, /hunter2/, 'the password is never logged')
    assert.equal(logged.match(/unreachable/g)?.length, 1, 'one line per outage, not one per retry')
  })

  it('uses a client given to it and leaves it open at close()', async (t) => {
    if (!(await needService(t, 'redis'))) return
    const client = await connectRaw()
    t.after(() => client.close())
    const redisPrefix = redisTestPrefix(t)
    const store = redisStore({ client, prefix: redisPrefix })
    await store.open()
    const id = freshId()
    await store.apply(id, { set: { a: 1 }, create: true }, 60)
    await store.close()
    assert.equal(client.isReady, true)
    assert.equal(await client.hGet(redisPrefix + id, 'a'), '1')
    await client.del(redisPrefix + id)
  })
})

describe('cookieStore', () => {
  const open = async (secrets?: string[]): Promise<ReturnType<typeof cookieStore>> => {
    const store = cookieStore()
    await store.open(testEnv(secrets))
    return store
  }

  it('seals the session: its data cannot be read from the cookie', async () => {
    const store = await open()
    const value = (await store.apply('', { set: { secret: 'plain-text-visible?', n: 12345 }, create: true }, 60)) as string
    assert.match(value, /^[A-Za-z0-9_-]+$/, 'cookie-safe characters only')
    const bytes = Buffer.from(value, 'base64url').toString('latin1')
    assert.ok(!bytes.includes('plain-text') && !bytes.includes('12345'), 'encrypted, not just signed')
    const again = (await store.apply('', { set: { secret: 'plain-text-visible?', n: 12345 }, create: true }, 60)) as string
    assert.notEqual(again, value, 'a fresh IV each time')
  })

  it('reads tampered, truncated, foreign or garbage cookies as no session, never throwing', async () => {
    const store = await open()
    const value = (await store.apply('', { set: { role: 'user' }, create: true }, 60)) as string
    assert.deepEqual((await store.get(value))?.data, { role: 'user' })
    const flip = (i: number): string => value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1)
    const bad = [
      flip(0), flip(5), flip(Math.floor(value.length / 2)), flip(value.length - 2),
      value.slice(0, -1), value.slice(0, -10), value.slice(0, 20), value.slice(1), value + 'A', value + value,
      '', '.', 'a.b.c', '%00', value.replace(/[A-Za-z]/, '+'), 'A'.repeat(100_000), Buffer.from('{"e":9e15,"d":{}}').toString('base64url'),
    ]
    for (const v of bad) {
      assert.equal(await store.get(v), undefined, `${v.slice(0, 30)}…`)
      assert.equal(await store.apply(v, { set: { role: 'admin' } }, 60), undefined)
      assert.equal(await store.touch(v, 60), undefined)
    }
    const other = await open(['another-app-secret-0123456789abcdefghij'])
    assert.equal(await other.get(value), undefined, 'sealed under another secret')
  })

  it('rotates keys: seals with the newest secret, still opens cookies sealed with an older one', async () => {
    const OLD = 'the-old-secret-0123456789abcdefghijklmno'
    const NEW = 'the-new-secret-0123456789abcdefghijklmno'
    const before = await open([OLD])
    const old = (await before.apply('', { set: { user: 1 }, create: true }, 60)) as string
    const rotated = await open([NEW, OLD])
    assert.deepEqual((await rotated.get(old))?.data, { user: 1 })
    const resealed = (await rotated.apply(old, { set: { seen: true } }, 60)) as string
    assert.deepEqual((await (await open([NEW])).get(resealed))?.data, { user: 1, seen: true }, 'resealed with the new key')
    assert.equal(await (await open([NEW])).get(old), undefined, 'once the old secret is dropped, its cookies stop working')
  })

  it('refuses a session past maxBytes with ERR_SESSION_TOO_LARGE, saying what to do', async () => {
    const store = await open()
    const value = (await store.apply('', { set: { a: 'x'.repeat(2800) }, create: true }, 60)) as string
    assert.ok(value.length <= 4000)
    await assert.rejects(store.apply(value, { set: { b: 'y'.repeat(1000) } }, 60), (e: unknown) => {
      assert.ok(e instanceof CarafeError)
      assert.equal(e.code, 'ERR_SESSION_TOO_LARGE')
      assert.match(e.message, /\d+ bytes, more than the 4000 .*sqliteStore\(\), redisStore\(\).*Nothing was saved/)
      return true
    })
    assert.deepEqual((await store.get(value))?.data, { a: 'x'.repeat(2800) }, 'the cookie the browser has still holds the old session')
    const small = cookieStore({ maxBytes: 200 })
    await small.open(testEnv())
    await assert.rejects(small.apply('', { set: { a: 'x'.repeat(200) }, create: true }, 60), /ERR_SESSION_TOO_LARGE|more than the 200/)
  })

  it('needs the app secret: opening without one is ERR_NO_SECRET', async () => {
    await assert.rejects(cookieStore().open(testEnv([])), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_NO_SECRET')
  })
})

describe('optional peer dependencies', () => {
  it('says which package to install when one is missing, instead of a bare MODULE_NOT_FOUND', () => {
    assert.throws(() => requirePeer('carafe-no-such-package-for-tests', 'carafe-no-such-package-for-tests@3', 'fooStore()'), (e: unknown) => {
      assert.ok(e instanceof CarafeError)
      assert.equal(e.code, 'ERR_MISSING_DEPENDENCY')
      assert.match(e.message, /^fooStore\(\) needs the carafe-no-such-package-for-tests package, which is not installed: run `npm install carafe-no-such-package-for-tests@3` to use fooStore\(\)$/)
      return true
    })
  })

  it('loads an installed peer', () => {
    assert.equal(typeof requirePeer<typeof BetterSqlite3>('better-sqlite3', 'better-sqlite3@12', 'sqliteStore()'), 'function')
  })
})

/** The timers and TCP sockets `run` made that are still open after it (and a moment for sockets to finish closing). */
async function leftOpen(run: () => Promise<void>): Promise<string[]> {
  const live = new Map<number, string>()
  const hook = createHook({
    init(id, type) { if (type === 'Timeout' || type === 'TCPWRAP') live.set(id, type) },
    destroy(id) { live.delete(id) },
  }).enable()
  try {
    await run()
    await sleep(50)
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
  } finally {
    hook.disable()
  }
  return [...live.values()]
}

describe('closing a store', () => {
  const use = async (store: SessionStore): Promise<void> => {
    await store.open?.(testEnv())
    const id = store.stateless === true ? '' : freshId()
    const out = await store.apply(id, { set: { a: 1 }, create: true }, 60)
    await store.get(typeof out === 'string' ? out : id)
    await store.close?.()
  }

  it('leaves no timer or socket behind: memory, sqlite, cookie', async (t) => {
    const dir = await tempDir(t)
    for (const store of [memoryStore({ sweepInterval: 1 }), sqliteStore({ path: path.join(dir, 'c.db'), purgeInterval: 1 }), cookieStore()]) {
      assert.deepEqual(await leftOpen(() => use(store)), [], store.kind)
    }
  })

  it('leaves no timer or socket behind: redis (up, and unreachable)', async (t) => {
    if (!(await needService(t, 'redis'))) return
    assert.deepEqual(await leftOpen(() => use(redisStore({ url: SERVICES.redis.url, prefix: redisTestPrefix(t) }))), [])
    const { captureErrors } = await import('../helpers/capture.js')
    await captureErrors(async () => {
      const left = await leftOpen(async () => {
        const store = redisStore({ url: 'redis://127.0.0.1:1', timeout: 200 })
        await store.open()
        await assert.rejects(store.get(freshId()), SessionStoreError)
        await store.close()
      })
      // node-redis may still sleep out its reconnect delay (at most ~1.1 s), then stop: a timer, never a socket.
      assert.deepEqual(left.filter((r) => r !== 'Timeout'), [])
    })
  })
})
