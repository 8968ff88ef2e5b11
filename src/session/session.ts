import { createHash, randomBytes } from 'node:crypto'
import type { Context } from '../core/context.js'
import type { Carafe, Plugin } from '../core/app.js'
import type { Next } from '../core/compose.js'
import type { Session, SessionValue } from '../core/battery.js'
import { CarafeError, HttpError } from '../core/errors.js'
import { serializeCookie } from './cookie.js'
import { memoryStore } from './memory-store.js'
import { seconds, type SessionPatch, type SessionStore, type StoreEnv, type StoredSession } from './store.js'

/** Options for {@link session}. */
export interface SessionOptions {
  /** Where sessions live. @default memoryStore() */
  store?: SessionStore
  /** Absolute lifetime from login or creation, however active the session is: `'14d'` or seconds. @default '14d' */
  maxAge?: number | string
  /** End a session unused for this long (`'2d'`, `'30m'` or seconds). @default none: only `maxAge` */
  idleTimeout?: number | string
  /** Largest session, in bytes of JSON; a bigger one is refused with `ERR_SESSION_TOO_LARGE` and not saved. @default 65536 */
  maxSize?: number
  /** The session cookie. */
  cookie?: SessionCookieOptions
}

/** Options for the session cookie (secure defaults: `HttpOnly`, `SameSite=Lax`, `Secure` and `__Host-` on HTTPS). */
export interface SessionCookieOptions {
  /** Cookie name; on HTTPS it gets the `__Host-` prefix (`__Secure-` with a `domain`). @default 'sid' */
  name?: string
  /** Share the cookie with subdomains (`example.com`). @default this host only */
  domain?: string
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** Keep the cookie across browser restarts (with `Max-Age` = what is left of `maxAge`); `false` ends it with the browser. @default true */
  persistent?: boolean
}

/** What `app.plugin('session')` gives other batteries (auth, the test client). */
export interface SessionPlugin extends Plugin {
  readonly name: 'session'
  readonly store: SessionStore
  /** Seconds of absolute lifetime. */
  readonly maxAge: number
  /**
   * Save a new session holding `data` (Carafe's `$`-keys included) and return the cookie
   * that carries it, for `https` or plain-HTTP requests. The test client's `loginAs()` uses it.
   */
  createSession(env: StoreEnv, data: Record<string, unknown>, https?: boolean): Promise<{ name: string; value: string }>
  /** Open the store (once; later calls wait for the same open) before using {@link store} directly. */
  open(env: StoreEnv): Promise<void>
}

/** Carafe's own keys in the session. */
export const CREATED_KEY = '$created'

const ID_RE = /^[A-Za-z0-9_-]{43}$/

/**
 * Server-side sessions, as `c.session` (Flask's `session`, Django's `request.session`).
 * A request without a session cookie does no store I/O and sets no cookie; a session is
 * saved only when it changed (and touched, throttled, when `idleTimeout` is set). The
 * cookie holds a 256-bit random id; the store holds only its SHA-256 hash.
 *
 * @example
 * app.use(session({ store: sqliteStore({ path: 'data/sessions.db' }), maxAge: '14d', idleTimeout: '2d' }))
 * app.post('/cart', async (c) => { c.session.set('cart', [...(c.session.get('cart') ?? []), 1]); return 'ok' })
 */
export function session(options: SessionOptions = {}): SessionPlugin {
  const store = options.store ?? memoryStore()
  const maxAge = seconds(options.maxAge ?? '14d', 'session maxAge')
  const idle = options.idleTimeout === undefined ? undefined : seconds(options.idleTimeout, 'session idleTimeout')
  if (maxAge <= 0) throw new TypeError('session maxAge must be more than 0 seconds')
  if (idle !== undefined && idle <= 0) throw new TypeError('session idleTimeout must be more than 0 seconds')
  const cookie = options.cookie ?? {}
  const baseName = cookie.name ?? 'sid'
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(baseName) || /^__(host|secure)-/i.test(baseName)) {
    throw new TypeError(`session cookie name ${JSON.stringify(baseName)} must be a plain token (the __Host- prefix is added on HTTPS by itself)`)
  }
  const state: SessionState = {
    store,
    stateless: store.stateless === true,
    maxAgeMs: maxAge * 1000,
    idleMs: idle === undefined ? undefined : idle * 1000,
    // A touch at most every tenth of the idle timeout, and at least once a minute of use.
    touchAfterMs: idle === undefined ? Infinity : Math.min(idle * 100, 60_000),
    maxSize: options.maxSize ?? 65536,
    httpName: baseName,
    httpsName: `${cookie.domain === undefined ? '__Host-' : '__Secure-'}${baseName}`,
    domain: cookie.domain,
    sameSite: cookie.sameSite ?? 'lax',
    persistent: cookie.persistent ?? true,
    open: (env) => {
      if (opened === null) {
        const p = Promise.resolve(store.open?.(env))
        opened = p
        // A failed open (Redis not there yet) is tried again by the next request.
        p.catch(() => { if (opened === p) opened = null })
      }
      return opened
    },
  }
  let opened: Promise<void> | null = null
  const open = state.open

  function middleware(c: Context<any>, next: Next): Promise<void> {
    const https = c.req.protocol === 'https'
    const raw = c.req.cookie(https ? state.httpsName : state.httpName)
    if (raw === undefined || (!state.stateless && !ID_RE.test(raw))) {
      const s = new RequestSession(state, c, https, null, null, undefined)
      // A malformed cookie (truncated, forged) names no session: clear it, as for an unknown one.
      if (raw !== undefined) s.dropCookie()
      c.provide('session', s)
      return next().then(() => s.finish())
    }
    return load(state, open(c.app), raw).then((found) => {
      const s = found === undefined ? new RequestSession(state, c, https, null, null, undefined) : new RequestSession(state, c, https, raw, found.key, found.stored)
      // A cookie for a session that is gone (expired, logged out, forged): drop it.
      if (found === undefined) s.dropCookie()
      c.provide('session', s)
      return next().then(() => s.finish())
    })
  }

  return {
    name: 'session',
    store,
    maxAge,
    middleware,
    startup: (app) => open(app),
    open: (env) => guard(open(env)),
    shutdown: async () => {
      await store.close?.()
      opened = null
    },
    async createSession(env, data, https = false) {
      await guard(open(env))
      const id = newId()
      const now = Date.now()
      const all = { [CREATED_KEY]: now, ...data }
      const ttl = ttlSeconds(state, now, now)
      const out = await guard(store.apply(state.stateless ? '' : hashId(id), { set: all, create: true }, ttl))
      return { name: https ? state.httpsName : state.httpName, value: state.stateless ? (out as string) : id }
    },
  }
}

interface SessionState {
  readonly store: SessionStore
  readonly stateless: boolean
  readonly maxAgeMs: number
  readonly idleMs: number | undefined
  readonly touchAfterMs: number
  readonly maxSize: number
  readonly httpName: string
  readonly httpsName: string
  readonly domain: string | undefined
  readonly sameSite: 'lax' | 'strict' | 'none'
  readonly persistent: boolean
  readonly open: (env: StoreEnv) => Promise<void>
}

/** Read the session a cookie names; `undefined` when it is unknown, expired (here, by `maxAge`, whatever the store kept) or malformed. */
async function load(state: SessionState, opening: Promise<void>, raw: string): Promise<{ key: string; stored: StoredSession } | undefined> {
  await guard(opening)
  const key = state.stateless ? raw : hashId(raw)
  const stored = await guard(state.store.get(key))
  if (stored === undefined) return undefined
  const now = Date.now()
  const created = stored.data[CREATED_KEY]
  if (typeof created !== 'number' || ttlSeconds(state, created, now) <= 0 || stored.expires <= now) {
    if (!state.stateless) await guard(state.store.destroy(key))
    return undefined
  }
  return { key, stored }
}

/** Seconds (fractional: stores keep milliseconds) the session may live from `now`: the idle timeout, capped by what is left of `maxAge`. */
function ttlSeconds(state: SessionState, created: number, now: number): number {
  const left = created + state.maxAgeMs - now
  const ms = state.idleMs === undefined ? left : Math.min(state.idleMs, left)
  return Math.max(0, ms / 1000)
}

/** When store trouble was last logged: one line per outage, not one per failed request. */
let lastStoreLog = 0

/** Store trouble (Redis down, a locked file) is a 503 for this request, never a crash; misuse (too large, not JSON) stays an error. */
async function guard<T>(p: Promise<T> | T): Promise<T> {
  try {
    return await p
  } catch (e) {
    if (e instanceof TypeError || e instanceof CarafeError || e instanceof HttpError) throw e
    const now = Date.now()
    if (now - lastStoreLog > 10_000) {
      lastStoreLog = now
      console.error('[carafe] session store failed (requests that need the session get 503 until it is back; this is logged at most every 10 s):', e)
    }
    throw new HttpError(503, 'the session store is unavailable right now; please try again in a moment', { code: 'ERR_SESSION_STORE', cause: e, headers: { 'retry-after': '5' } })
  }
}

function newId(): string {
  return randomBytes(32).toString('base64url')
}

/** What the store keeps instead of the id: its SHA-256, so a store dump holds no usable cookie. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}

/** The session of one request. */
class RequestSession implements Session {
  readonly #state: SessionState
  readonly #c: Context<any>
  readonly #https: boolean
  /** The id in the cookie (server stores), `null` when new. */
  #id: string | null
  /** The store's key for it: the hash (server stores) or the cookie value (stateless). */
  #key: string | null
  #data: Record<string, unknown>
  #expires: number
  /** Keys changed since the load, with `undefined` for a delete; `null` when none. */
  #dirty: Map<string, unknown> | null = null
  /** Write the whole data, creating the session (new, regenerated). */
  #whole: boolean

  constructor(state: SessionState, c: Context<any>, https: boolean, id: string | null, key: string | null, stored: StoredSession | undefined) {
    this.#state = state
    this.#c = c
    this.#https = https
    this.#id = id
    this.#key = key
    this.#data = stored?.data ?? {}
    this.#expires = stored?.expires ?? 0
    this.#whole = stored === undefined
  }

  get id(): string | null {
    return this.#id
  }

  get isNew(): boolean {
    return this.#key === null
  }

  get changed(): boolean {
    return this.#dirty !== null
  }

  get(key: string): any {
    return this.#data[key]
  }

  set(key: string, value: SessionValue | unknown): void {
    if (typeof key !== 'string' || key === '') throw new TypeError('session keys are non-empty strings')
    if (value === undefined) return this.delete(key)
    // defineProperty: `__proto__` is a key like any other, not the object's prototype.
    Object.defineProperty(this.#data, key, { value, writable: true, enumerable: true, configurable: true })
    ;(this.#dirty ??= new Map()).set(key, value)
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.#data, key)
  }

  delete(key: string): void {
    if (!this.has(key)) return
    delete this.#data[key]
    ;(this.#dirty ??= new Map()).set(key, undefined)
  }

  clear(): void {
    for (const k of this.keys()) this.delete(k)
  }

  keys(): string[] {
    return Object.keys(this.#data).filter((k) => !k.startsWith('$'))
  }

  async regenerate(): Promise<void> {
    const old = this.#key
    this.#id = null
    this.#key = null
    this.#whole = true
    delete this.#data[CREATED_KEY]
    this.#dirty ??= new Map()
    if (old !== null && !this.#state.stateless) await guard(this.#state.store.destroy(old))
  }

  async destroy(): Promise<void> {
    const old = this.#key
    this.#id = null
    this.#key = null
    this.#data = {}
    this.#dirty = null
    this.#whole = true
    if (old !== null && !this.#state.stateless) await guard(this.#state.store.destroy(old))
    this.dropCookie()
  }

  /** Clear the cookie in the browser (a session that is gone). */
  dropCookie(): void {
    const name = this.#https ? this.#state.httpsName : this.#state.httpName
    this.#c.header('set-cookie', serializeCookie(name, '', { maxAge: 0, expires: new Date(0), domain: this.#state.domain, sameSite: this.#state.sameSite }, this.#https), { append: true })
  }

  /** After the handler: save what changed, or touch a session in use; nothing for an untouched new one. */
  finish(): Promise<void> | undefined {
    if (this.#dirty === null) {
      if (this.#key === null || this.#state.idleMs === undefined) return undefined
      return this.#touch()
    }
    // A response that failed saves nothing: its changes may be half made.
    if (this.#c.statusCode >= 500) return undefined
    return this.#save()
  }

  async #touch(): Promise<void> {
    const now = Date.now()
    const ttl = ttlSeconds(this.#state, this.#data[CREATED_KEY] as number, now)
    // Touch only once the expiry has slid far enough behind where a touch would put it.
    if (now + ttl * 1000 - this.#expires < this.#state.touchAfterMs) return
    const out = await guard(this.#state.store.touch(this.#key!, ttl))
    this.#expires = now + ttl * 1000
    if (this.#state.stateless && typeof out === 'string') this.#setCookie(out, this.#data[CREATED_KEY] as number)
  }

  async #save(): Promise<void> {
    const state = this.#state
    const now = Date.now()
    if (this.#whole && (this.#key === null || typeof this.#data[CREATED_KEY] !== 'number')) this.#data[CREATED_KEY] = now
    const created = this.#data[CREATED_KEY] as number
    const size = sizeOf(this.#data)
    if (size > state.maxSize) {
      throw new CarafeError('ERR_SESSION_TOO_LARGE', `the session would hold ${size} bytes of JSON, more than its limit of ${state.maxSize} (session({ maxSize })); keep large data in a database and its id in the session. Nothing was saved.`)
    }
    const ttl = ttlSeconds(state, created, now)
    let patch: SessionPatch
    if (this.#whole) {
      if (Object.keys(this.#data).length === 1) return // only $created: nothing to keep
      patch = { set: this.#data, create: true }
    } else {
      const set: Record<string, unknown> = {}
      const del: string[] = []
      for (const [k, v] of this.#dirty!) {
        if (v === undefined) del.push(k)
        else set[k] = v
      }
      patch = { set, delete: del }
    }
    const isNew = this.#key === null
    if (isNew) {
      this.#id = newId()
      this.#key = state.stateless ? '' : hashId(this.#id)
    }
    await guard(this.#state.open(this.#c.app))
    const out = await guard(state.store.apply(this.#key!, patch, ttl))
    this.#dirty = null
    this.#whole = false
    if (state.stateless) {
      if (typeof out === 'string') {
        this.#key = out
        this.#setCookie(out, created)
      }
    } else if (isNew) this.#setCookie(this.#id!, created)
  }

  #setCookie(value: string, created: number): void {
    const state = this.#state
    const name = this.#https ? state.httpsName : state.httpName
    const maxAge = state.persistent ? Math.max(1, Math.ceil((created + state.maxAgeMs - Date.now()) / 1000)) : undefined
    this.#c.header('set-cookie', serializeCookie(name, value, { maxAge, domain: state.domain, sameSite: state.sameSite }, this.#https), { append: true })
  }
}

function sizeOf(data: Record<string, unknown>): number {
  let text: string
  try {
    text = JSON.stringify(data)
  } catch (e) {
    throw new TypeError(`the session cannot be saved as JSON: ${(e as Error).message}`)
  }
  return Buffer.byteLength(text)
}

export type { Carafe }
