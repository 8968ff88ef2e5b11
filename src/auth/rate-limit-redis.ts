import type { RateLimiterAbstract } from 'rate-limiter-flexible'

/**
 * A connected node-redis client (`createClient()` from `redis`, v4 or later) that
 * `rateLimit({ store: { redis: client } })` can use: typed by the two state flags it is
 * checked by, so `carafe/auth` does not need `redis` installed to type-check.
 */
export interface RedisClientLike {
  readonly isOpen: boolean
  readonly isReady: boolean
}

/** Commands wait at most this long: a Redis that accepts but never answers is a store failure, not a hung request. */
const COMMAND_TIMEOUT_MS = 2000
/** How long the first requests wait for the first connection before failing. */
const FIRST_CONNECT_WAIT_MS = 1000

interface Shared {
  client: OwnClient
  users: number
  /** Settles once the first connection is up, or after {@link FIRST_CONNECT_WAIT_MS}. */
  settled: Promise<void>
}

/** The part of a node-redis client this module drives. */
interface OwnClient extends RedisClientLike {
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  unref(): void
  on(event: 'error' | 'ready', fn: (e?: Error) => void): unknown
}

/** One client per URL in this process, shared by the limiters that name it. */
const CLIENTS = new Map<string, Shared>()

/** Redis limiters are made on first use: node-redis is imported only then. */
export interface RedisLimiter {
  consume(key: string): ReturnType<RateLimiterAbstract['consume']>
  delete(key: string): Promise<unknown>
  close(): Promise<void>
}

/**
 * A rate-limiter-flexible Redis limiter over `redis` (a URL: a client opened here, shared by
 * URL, with its offline queue off so an outage fails fast; or your connected client).
 * `RateLimiterRedis` needs `useRedisPackage` and `rejectIfRedisNotReady` for node-redis:
 * without the latter, commands wait in node-redis's queue while Redis is away and requests
 * hang instead of getting their 503.
 */
export function redisLimiter(redis: string | RedisClientLike, make: (client: RedisClientLike, extra: Record<string, unknown>) => RateLimiterAbstract): RedisLimiter {
  let shared: Promise<Shared> | null = null
  let limiter: RateLimiterAbstract | null = null
  const extra = { useRedisPackage: true, rejectIfRedisNotReady: true }
  const url = typeof redis === 'string' ? redis : null
  if (typeof redis !== 'string') limiter = make(redis, extra)

  async function ready(): Promise<RateLimiterAbstract> {
    if (limiter !== null) return limiter
    shared ??= openShared(url!)
    const s = await shared
    await s.settled
    limiter ??= make(s.client, extra)
    return limiter
  }

  return {
    consume: (key) => ready().then((l) => withTimeout(l.consume(key))),
    delete: (key) => ready().then((l) => withTimeout(l.delete(key))),
    async close() {
      if (shared === null) return
      const s = await shared
      shared = null
      limiter = null
      if (--s.users > 0) return
      CLIENTS.delete(url!)
      try {
        await (s.client.isReady ? s.client.close() : Promise.resolve(s.client.destroy()))
      } catch {
        s.client.destroy()
      }
    },
  }
}

async function openShared(url: string): Promise<Shared> {
  const found = CLIENTS.get(url)
  if (found !== undefined) {
    found.users++
    return found
  }
  let createClient: (options: object) => OwnClient
  try {
    ({ createClient } = (await import('redis')) as unknown as { createClient: (options: object) => OwnClient })
  } catch (e) {
    throw new Error("rateLimit({ store: { redis } }) needs the redis package: npm install redis", { cause: e })
  }
  const again = CLIENTS.get(url)
  if (again !== undefined) {
    again.users++
    return again
  }
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) } })
  let down = false
  // node-redis emits 'error' on every failed (re)connect; an unhandled one would crash the process.
  client.on('error', (e) => {
    if (down) return
    down = true
    console.error(`[carafe] rateLimit: Redis at ${redactUrl(url)} is unavailable (${e?.message ?? e}); rate-limited requests get 503 until it is back`)
  })
  client.on('ready', () => {
    if (down) console.error(`[carafe] rateLimit: Redis at ${redactUrl(url)} is back`)
    down = false
  })
  // A limiter's connection must never keep the process alive on its own.
  client.unref()
  const connected = client.connect().then(() => undefined, () => undefined)
  const settled = Promise.race([connected, new Promise<void>((resolve) => setTimeout(resolve, FIRST_CONNECT_WAIT_MS).unref())])
  const s: Shared = { client, users: 1, settled }
  CLIENTS.set(url, s)
  return s
}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS)
  })
  return Promise.race([p, limit]).finally(() => clearTimeout(timer))
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'the configured URL'
  }
}
