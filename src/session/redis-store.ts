import { createHash } from 'node:crypto'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import { putValue, toJson } from './memory-store.js'
import { SessionStoreError, type SessionRecord, type SessionStore, type StoredSession } from './store.js'

/** Options for {@link redisStore}. */
export interface RedisStoreOptions {
  /** Where Redis is (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS). @default process.env.REDIS_URL, else 'redis://127.0.0.1:6379' */
  url?: string
  /**
   * A node-redis client (v5 or v6) of your own, already connected, used instead of making one
   * from `url`. The store neither connects nor closes it, and it runs with the options you gave it
   * (make it with `disableOfflineQueue: true` so commands fail fast while Redis is down).
   */
  client?: RedisClientLike
  /** Put before each session's key, so apps sharing a Redis keep apart. @default 'carafe:sess:' */
  prefix?: string
  /** Longest wait for Redis, in ms: for each command, and for each connection attempt. @default 2000 */
  timeout?: number
}

/** The part of a node-redis client (`createClient()` of `redis` v5 or v6) that {@link redisStore} uses. */
export interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>
}

/** A {@link redisStore}. */
export interface RedisStore extends SessionStore {
  readonly kind: 'redis'
  /** Connect (a store made with `client` uses that one); resolves after the first attempt, even when Redis is not there yet. */
  open(): Promise<void>
  /** Close the client the store made (not one passed as `client`). */
  close(): Promise<void>
  /** The prefix of the store's keys (`prefix` + the hashed session id). */
  readonly prefix: string
}

/** Apply a patch atomically. KEYS[1]: the session. ARGV: create (1/0), ttl ms, n deletes, the n fields, then field/value pairs. */
const APPLY = `local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  if ARGV[1] ~= '1' then return 0 end
  redis.call('HSET', key, '', '1')
end
local n = tonumber(ARGV[3])
for i = 4, 3 + n do redis.call('HDEL', key, ARGV[i]) end
for i = 4 + n, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', key, ARGV[2])
return 1`

/** The session's fields and its TTL in one round trip; a key without TTL came from elsewhere and would never expire: drop it. */
const GET = `local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then return false end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('DEL', KEYS[1]) return false end
return {t, f}`

interface Script {
  readonly text: string
  readonly sha: string
}

const script = (text: string): Script => ({ text, sha: createHash('sha1').update(text).digest('hex') })
const SCRIPTS = { apply: script(APPLY), get: script(GET) }

/**
 * Sessions in Redis (node-redis, an optional peer: `npm install redis`), for sites on several
 * machines. Each session is one hash (`prefix` + hashed id; one field per key, JSON values, plus
 * the empty field `''` that keeps an empty session in existence) whose Redis TTL *is* the
 * session's expiry: every write and touch sets it in the same step, so the two never drift.
 *
 * While Redis is down, commands fail at once (no offline queue) and the session middleware
 * answers 503; the client reconnects by itself and sessions work again when Redis is back.
 *
 * @example
 * app.use(session({ store: redisStore({ url: process.env.REDIS_URL }) }))
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = options.prefix ?? 'carafe:sess:'
  const timeout = options.timeout ?? 2000
  if (typeof prefix !== 'string') throw new TypeError('redisStore: prefix must be a string')
  if (!(timeout > 0)) throw new TypeError('redisStore: timeout must be more than 0 ms')
  const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const shown = options.client === undefined ? redact(url) : 'your Redis client'
  let client: RedisClientLike | null = options.client ?? null
  /** The client this store made (and must close), or `null`. */
  let own: OwnClient | null = null

  const send = (args: string[]): Promise<unknown> => {
    const c = client
    if (c === null) return Promise.reject(new CarafeError('ERR_STORE_NOT_OPEN', 'redisStore() was used before open() (session() opens it at startup) or after close()'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new SessionStoreError(`redisStore: ${shown} did not answer within ${timeout} ms`)), timeout)
      c.sendCommand(args).then(
        (v) => { clearTimeout(timer); resolve(v) },
        (e: unknown) => { clearTimeout(timer); reject(e) },
      )
    })
  }
  const wrap = (what: string) => (e: unknown): never => {
    if (e instanceof SessionStoreError || e instanceof CarafeError) throw e
    throw new SessionStoreError(`redisStore: ${what} failed, ${shown} is unavailable (${(e as Error).message})`, { cause: e })
  }
  const evaluate = async (s: Script, key: string, args: string[]): Promise<unknown> => {
    try {
      return await send(['EVALSHA', s.sha, '1', key, ...args])
    } catch (e) {
      // Not cached yet (first use, or Redis restarted): EVAL sends the text and caches it.
      if (!(e instanceof Error && e.message.startsWith('NOSCRIPT'))) throw e
      return send(['EVAL', s.text, '1', key, ...args])
    }
  }

  return {
    kind: 'redis',
    prefix,
    async open() {
      if (client !== null) return
      const redis = requirePeer<typeof import('redis')>('redis', 'redis', 'redisStore()')
      own = await connect(redis, url, shown, timeout)
      client = own.client
    },
    get(id) {
      return evaluate(SCRIPTS.get, prefix + id, []).then(decode, wrap('reading a session'))
    },
    async apply(id, patch, ttl) {
      const args = [patch.create === true ? '1' : '0', String(Math.round(ttl * 1000)), String(patch.delete?.length ?? 0)]
      for (const k of patch.delete ?? []) args.push(k)
      // Serialize first: a value JSON cannot carry fails before anything is sent.
      for (const [k, v] of Object.entries(patch.set ?? {})) {
        if (k === '') throw new TypeError('redisStore: session keys are non-empty strings (the empty field marks the session itself)')
        args.push(k, toJson(k, v))
      }
      await evaluate(SCRIPTS.apply, prefix + id, args).catch(wrap('saving a session'))
    },
    async destroy(id) {
      await send(['DEL', prefix + id]).catch(wrap('deleting a session'))
    },
    async touch(id, ttl) {
      // PEXPIRE on a missing key is a no-op: a touch never brings a session back.
      await send(['PEXPIRE', prefix + id, String(Math.round(ttl * 1000))]).catch(wrap('touching a session'))
    },
    async close() {
      const mine = own
      own = null
      client = options.client ?? null
      if (mine !== null) await mine.close()
    },
  }
}

/** A reply of the GET script: `[pttl, [field, value, ...]]` or null. */
function decode(reply: unknown): StoredSession | undefined {
  if (!Array.isArray(reply)) return undefined
  const [ttl, fields] = reply as [unknown, unknown]
  if (typeof ttl !== 'number' || !Array.isArray(fields)) return undefined
  const data: SessionRecord = {}
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = String(fields[i])
    if (k === '') continue
    try {
      putValue(data, k, JSON.parse(String(fields[i + 1])))
    } catch {
      // A field not written as JSON (by hand, by another app): left out rather than a 500.
    }
  }
  return { data, expires: Date.now() + ttl }
}

interface OwnClient {
  client: RedisClientLike
  close(): Promise<void>
}

/**
 * Make and connect a client. Commands fail at once while it is not connected (no offline queue:
 * requests get a 503 now instead of piling up in memory), it keeps reconnecting by itself, and
 * its 'error' events are logged once per outage instead of crashing the process. Resolves after
 * the first attempt even when Redis is not there yet, so the app starts and answers 503 meanwhile.
 */
async function connect(redis: typeof import('redis'), url: string, shown: string, timeout: number): Promise<OwnClient> {
  const c = redis.createClient({
    url,
    disableOfflineQueue: true,
    // The store times each command itself (for clients passed in too); node-redis 6's own
    // timeout would add an AbortSignal and a timer that outlives the command, per command.
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: timeout,
      // Back off up to a second (plus jitter, so workers do not reconnect in step), forever.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100),
    },
  })
  let down = false
  c.on('error', (e: Error) => {
    if (down) return
    down = true
    console.error(`[carafe] redisStore: ${shown} is unreachable (${e.message}); requests that need a session get 503 until it is back (reconnecting)`)
  })
  c.on('ready', () => {
    if (!down) return
    down = false
    console.error(`[carafe] redisStore: connected to ${shown} again`)
  })
  const first = new Promise<void>((resolve) => {
    const done = (): void => { c.off('ready', done); c.off('error', done); resolve() }
    c.on('ready', done)
    c.on('error', done)
  })
  // connect() settles only once connected (or closed); the first 'ready' or 'error' is enough here.
  c.connect().catch(() => {})
  await first
  return {
    client: c,
    async close() {
      if (!c.isReady) return c.destroy()
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), timeout) })
      const how = await Promise.race([c.close().then(() => 'closed' as const, () => 'closed' as const), late])
      clearTimeout(timer)
      if (how === 'late') c.destroy()
    },
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'redis'
  }
}
