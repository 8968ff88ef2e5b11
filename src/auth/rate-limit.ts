import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import type { Context } from '../core/context.js'
import type { Next } from '../core/compose.js'
import { CarafeError, HttpError } from '../core/errors.js'
import { seconds } from '../session/store.js'
import { lazyRequire } from '../util/lazy.js'
import { redisLimiter, type RedisClientLike, type RedisLimiter } from './rate-limit-redis.js'
import { refusePerProcess } from '../util/workers.js'

/** Where a limiter keeps its counts. */
export type RateLimitStore = 'memory' | RedisRateLimitStore

/** Counts in Redis, shared by every process and machine that uses the same Redis and `prefix`. */
export interface RedisRateLimitStore {
  /** A URL (`redis://127.0.0.1:6379`: a client is opened on first use, one per URL per process) or your connected node-redis client. */
  redis: string | RedisClientLike
  /** Key prefix: limiters with the same prefix (in any app, on any machine) share their counts, so give each limiter its own. @default 'carafe:rl' */
  prefix?: string
}

/** Options for {@link rateLimit}. */
export interface RateLimitOptions {
  /** The length of the window: a duration (`'15m'`, `'1h'`) or seconds; whole seconds with Redis. */
  window: number | string
  /** Requests allowed per key in one window; the next one gets 429. */
  max: number
  /**
   * What to count by: a string per client (`(c) => 'acct:' + email`). Return `null` or
   * `undefined` to let a request through uncounted.
   * @default the client IP ({@link ipKey} of `c.req.ip`: through trusted proxies only, IPv6 by its /56)
   */
  key?: (c: Context) => string | null | undefined | Promise<string | null | undefined>
  /** Where counts live. @default 'memory' (this process only; refused with several workers unless `perProcess`) */
  store?: RateLimitStore
  /** The 429's message. @default 'too many requests: at most {max} in {window}; try again in {n} seconds' */
  message?: string
  /** When the store fails (Redis down): answer 503 (`'refuse'`), or let requests through uncounted (`'allow'`). @default 'refuse' */
  onStoreError?: 'refuse' | 'allow'
  /**
   * Allow the memory store with several workers (`CARAFE_WORKERS` > 1, as `carafe start`
   * sets): each worker then counts alone, so a client gets up to `max` per worker.
   * @default false (refused with several workers: use `store: { redis }`)
   */
  perProcess?: boolean
}

/** What {@link rateLimit} returns: a middleware, app-wide (`app.use`) or per route, that can also forget a key and close its connection. */
export interface RateLimiter {
  (c: Context<any>, next: Next): Promise<unknown>
  /** Forget the count of `key` (what the `key` option returned, or {@link ipKey} of an address), e.g. after a successful login. */
  reset(key: string): Promise<void>
  /** Close the Redis connection this limiter opened from a URL (nothing to do for memory or your own client). */
  close(): Promise<void>
}

interface Counter {
  consume(key: string): Promise<RateLimiterRes>
  delete(key: string): Promise<unknown>
  close(): Promise<void>
}

type Rlf = typeof import('rate-limiter-flexible')

/**
 * Limit how often a client may call a route (or the whole app): at most `max` requests per
 * `window` per key (the client IP by default). Past it: 429 with `Retry-After`, and the
 * handler does not run. Every answer carries the IETF `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy` headers (with several
 * limiters on one request, the one with the fewest requests left speaks). A failing store
 * answers 503 and the process keeps serving; it recovers by itself when the store is back.
 *
 * @example
 * // per IP and per account on the login form
 * const perIp = rateLimit({ window: '15m', max: 50 })
 * const perAccount = rateLimit({ window: '15m', max: 5, key: async (c) => {
 *   const email = (await c.req.form()).text('email')?.trim().toLowerCase()
 *   return email ? `acct:${email}` : null
 * } })
 * app.post('/login', perIp, perAccount, async (c) => { … })
 */
export function rateLimit(options: RateLimitOptions): RateLimiter {
  const { max } = options
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`rateLimit: max must be a whole number of requests, at least 1 (got ${String(max)})`)
  const window = seconds(options.window, 'rateLimit window')
  if (window <= 0) throw new TypeError('rateLimit: window must be longer than 0 seconds')
  const key = options.key ?? ((c: Context) => ipKey(c.req.ip))
  const allowOnError = options.onStoreError === 'allow'
  const store = options.store ?? 'memory'
  if (store === 'memory' && options.perProcess !== true) {
    refusePerProcess(`rateLimit() counts in this process's memory by default, so a client would get ${max} requests per window from each worker`,
      "Count where every worker sees it: rateLimit({ …, store: { redis: 'redis://…' } }); or rateLimit({ …, perProcess: true }) if per-worker counts are acceptable.")
  }
  const counter = makeCounter(store, max, window)
  const policy = `${max};w=${Math.ceil(window)}`
  const windowText = typeof options.window === 'string' ? options.window.trim() : `${window} seconds`
  let failing = false

  async function rateLimited(c: Context<any>, next: Next): Promise<unknown> {
    const k = await key(c)
    if (k === null || k === undefined) return next()
    let res: RateLimiterRes
    try {
      res = await counter.consume(String(k))
      failing = false
    } catch (e) {
      if (isRes(e)) {
        const retry = Math.max(1, Math.ceil(e.msBeforeNext / 1000))
        const headers = { 'retry-after': String(retry), ...rateHeaders(max, 0, retry, policy) }
        const message = options.message ?? `too many requests: at most ${max} in ${windowText}; try again in ${retry} seconds`
        throw new HttpError(429, message, { code: 'ERR_RATE_LIMITED', headers })
      }
      if (!failing) console.error('[carafe] rateLimit: the store failed:', e)
      failing = true
      if (allowOnError) return next()
      throw new HttpError(503, 'the rate limiter cannot count requests right now (its store is unavailable); please try again in a moment', { code: 'ERR_RATE_LIMIT_STORE', headers: { 'retry-after': '1' }, cause: e })
    }
    // Set after the handler: an error response resets the headers set before it.
    await next()
    const remaining = res.remainingPoints
    const prev = c.getHeader('ratelimit-remaining')
    if (prev !== undefined && Number(prev) <= remaining) return
    for (const [name, value] of Object.entries(rateHeaders(max, remaining, Math.max(0, Math.ceil(res.msBeforeNext / 1000)), policy))) c.header(name, value)
  }

  return Object.assign(rateLimited, {
    reset: (k: string) => counter.delete(k).then(() => undefined),
    close: () => counter.close(),
  })
}

function rateHeaders(limit: number, remaining: number, reset: number, policy: string): Record<string, string> {
  return { 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(reset), 'ratelimit-policy': policy }
}

function isRes(e: unknown): e is RateLimiterRes {
  return e instanceof lazyRequire<Rlf>('rate-limiter-flexible').RateLimiterRes
}

function makeCounter(store: RateLimitStore, max: number, window: number): Counter {
  const rlf = lazyRequire<Rlf>('rate-limiter-flexible')
  if (store === 'memory') {
    const l = new rlf.RateLimiterMemory({ points: max, duration: window, keyPrefix: '' })
    return { consume: (k) => l.consume(k), delete: (k) => l.delete(k), close: () => Promise.resolve() }
  }
  if (typeof store !== 'object' || store === null || store.redis === undefined) {
    throw new TypeError("rateLimit: store must be 'memory' or { redis: url | client, prefix? }")
  }
  if (!Number.isInteger(window)) throw new TypeError(`rateLimit: with a Redis store the window must be whole seconds (Redis expires keys by the second), got ${window}`)
  if (typeof store.redis === 'string') requireRedis()
  const prefix = store.prefix ?? 'carafe:rl'
  const r: RedisLimiter = redisLimiter(store.redis, (client, extra) => new rlf.RateLimiterRedis({ storeClient: client, points: max, duration: window, keyPrefix: prefix, ...extra }) as RateLimiterAbstract)
  return r
}

/** Fail at startup, not on the first request, when `redis` is missing. */
function requireRedis(): void {
  try {
    createRequire(import.meta.url).resolve('redis')
  } catch {
    throw new CarafeError('ERR_NO_REDIS', "rateLimit({ store: { redis: url } }) needs the redis package (node-redis): npm install redis")
  }
}

/**
 * The rate-limit key of a client address: IPv4 as is (`::ffff:1.2.3.4` is `1.2.3.4`), IPv6 by
 * its /56 prefix (`2001:db8:0:100::/56`), since one subscriber usually gets a /56 or a /48
 * and can pick any address inside it; `'unknown'` when the door knows no address.
 *
 * @example
 * ipKey('2001:db8::1') === ipKey('2001:db8:0:ff:ffff::1') // same /56
 */
export function ipKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown'
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  const zone = a.indexOf('%')
  if (zone >= 0) a = a.slice(0, zone)
  const family = isIP(a)
  if (family === 4) return a
  if (family !== 6) return address
  const g = expandIPv6(a)
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`
  }
  return `${g[0]!.toString(16)}:${g[1]!.toString(16)}:${g[2]!.toString(16)}:${(g[3]! & 0xff00).toString(16)}::/56`
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 is two of them). */
function expandIPv6(address: string): number[] {
  let text = address.toLowerCase()
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':')
    const [a, b, c, d] = text.slice(colon + 1).split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)))
  const gap = text.indexOf('::')
  if (gap < 0) return parse(text)
  const left = parse(text.slice(0, gap))
  const right = parse(text.slice(gap + 2))
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}
