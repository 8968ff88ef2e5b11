/**
 * The session store interface: small and patch-style, so two requests of one session that
 * change different keys both keep their change (a store applies each patch atomically;
 * for the same key, the last write wins).
 *
 * Ids the stores see are already hashed (the SHA-256 of the id in the cookie), so a store's
 * contents (a database dump, a Redis `KEYS *`) never hold a usable session cookie. A
 * stateless store (`cookieStore()`) is the exception: it gets and returns the cookie value.
 */

/** What a session holds: JSON values by key (Carafe's own keys start with `$`). */
export type SessionRecord = Record<string, unknown>

/** A session as a store gives it back: its data and when it expires. */
export interface StoredSession {
  /** The data: a fresh copy the caller may keep and change. */
  data: SessionRecord
  /** When the session expires, epoch milliseconds (the store's own TTL). */
  expires: number
}

/** One change to a session: keys to set (JSON values), keys to delete. */
export interface SessionPatch {
  /** Keys to set, with their new values (each must survive `JSON.stringify`). */
  set?: Record<string, unknown>
  /** Keys to remove. */
  delete?: readonly string[]
  /**
   * Create the session when it does not exist. Without it, a patch on a missing (expired,
   * destroyed) session changes nothing, so a request still running after a logout cannot
   * bring the session back.
   */
  create?: boolean
}

/**
 * A place to keep sessions. Every store passes the same conformance suite
 * (`test/session/conformance.ts`). Durations are seconds, possibly fractional (keep
 * milliseconds: a session with 0.8 s left must not be rounded to 0 or to 1).
 *
 * @example
 * app.use(session({ store: redisStore({ url: 'redis://127.0.0.1:6379' }) }))
 */
export interface SessionStore {
  /** For messages and `app.plugin('session')`: `'memory'`, `'sqlite'`, `'redis'`, `'cookie'`. */
  readonly kind: string
  /**
   * True for a store that keeps the session in the cookie itself: it is given the cookie
   * value as the id, and `apply`/`touch` return the new cookie value.
   */
  readonly stateless?: boolean
  /** The session and its expiry, or `undefined` when it is unknown or has expired. */
  get(id: string): Promise<StoredSession | undefined>
  /**
   * Apply `patch` atomically and make the session live `ttl` more seconds. A stateless
   * store returns the new id (cookie value).
   */
  apply(id: string, patch: SessionPatch, ttl: number): Promise<string | void>
  /** Forget the session (no error when it does not exist). */
  destroy(id: string): Promise<void>
  /** Make the session live `ttl` more seconds without changing it (no-op when missing). */
  touch(id: string, ttl: number): Promise<string | void>
  /**
   * Open connections, create tables: run once, at startup or on first use, with the app
   * (its root folder for relative paths, its keys for a store that encrypts). A store
   * must not be used before it.
   */
  open?(env: StoreEnv): Promise<void>
  /** Close connections and timers (run at shutdown). */
  close?(): Promise<void>
}

/** What a store gets from the app when it opens. */
export interface StoreEnv {
  /** The app's root folder: relative paths resolve against it. */
  readonly root: string
  /** The newest key for `purpose`, derived from the app's secrets (`ERR_NO_SECRET` without one). */
  key(purpose: string): Buffer
  /** Every key for `purpose`, newest first (verify or decrypt with all of them). */
  keys(purpose: string): readonly Buffer[]
}

/** A store unreachable right now (Redis down, disk full): the session middleware answers 503. */
export class SessionStoreError extends Error {
  readonly code = 'ERR_SESSION_STORE'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SessionStoreError'
  }
}

/**
 * A duration as a number of seconds or a unit string: `'90s'`, `'15m'`, `'2h'`, `'14d'`,
 * `'1w'` (also `'1.5h'`, `'500ms'`). Returns seconds.
 *
 * @example
 * seconds('14d') // 1209600
 */
export function seconds(value: number | string, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${what}: ${value} is not a number of seconds`)
    return value
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(value)
  if (m === null) throw new TypeError(`${what}: ${JSON.stringify(value)} is not a duration; write a number of seconds or '90s', '15m', '2h', '14d', '1w'`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  const factor = unit === 'ms' ? 0.001 : unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 604800
  return n * factor
}
