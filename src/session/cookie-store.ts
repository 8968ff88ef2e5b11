import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { CarafeError } from '../core/errors.js'
import { putValue, toJson } from './memory-store.js'
import { type SessionRecord, type SessionStore, type StoreEnv, type StoredSession } from './store.js'

/** Options for {@link cookieStore}. */
export interface CookieStoreOptions {
  /**
   * Largest sealed cookie value, in bytes; a bigger session is refused with
   * `ERR_SESSION_TOO_LARGE` and nothing is saved. Browsers keep at most 4096 bytes of a cookie's
   * name and value together; the default leaves room for the name.
   * @default 4000
   */
  maxBytes?: number
}

/** A {@link cookieStore}. */
export interface CookieStore extends SessionStore {
  readonly kind: 'cookie'
  readonly stateless: true
  /** Take the keys from the app (`ERR_NO_SECRET` when it has no secret). */
  open(env: StoreEnv): Promise<void>
}

/** The key purpose (`app.key('session-cookie')`): no other feature shares this key. */
export const COOKIE_KEY_PURPOSE = 'session-cookie'
/** Format version, first byte of the sealed value. */
const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
/** Bound to the ciphertext: a value sealed by another format or feature never opens as a session. */
const AAD = Buffer.from('carafe session cookie v1')
const B64URL_RE = /^[A-Za-z0-9_-]+$/

/**
 * Sessions kept in the cookie itself: nothing on the server, nothing to share between machines.
 * The session (data and expiry) is sealed with AES-256-GCM under a key derived from the app's
 * secrets (`app.key('session-cookie')`), so it can be neither read nor changed by the browser;
 * cookies sealed under an older secret still open (list it after the new one in `secrets`).
 *
 * Limits, by nature: a session must fit in about 4 KB; two requests of one session that change
 * different keys at once each send back their own cookie and the browser keeps the last one;
 * and `destroy()` cannot reach a copy of the cookie, so a copied cookie stays valid until it
 * expires (`maxAge`/`idleTimeout`): end sessions everywhere through the auth layer's session
 * version, or use a server store.
 *
 * @example
 * app.use(session({ store: cookieStore(), maxAge: '7d' }))
 */
export function cookieStore(options: CookieStoreOptions = {}): CookieStore {
  const maxBytes = options.maxBytes ?? 4000
  if (!Number.isInteger(maxBytes) || maxBytes < 64) throw new TypeError(`cookieStore: maxBytes must be an integer of at least 64, got ${maxBytes}`)
  let sealKey: Buffer | null = null
  let openKeys: readonly Buffer[] = []

  const unseal = (value: string): StoredSession | undefined => {
    const s = openSealed(openKeys, value)
    return s !== undefined && s.expires > Date.now() ? s : undefined
  }
  const seal = (data: SessionRecord, expires: number): string => {
    if (sealKey === null) throw new CarafeError('ERR_STORE_NOT_OPEN', 'cookieStore() was used before open() (session() opens it at startup)')
    // No compression before encryption: its length would leak secrets in the session (CRIME/BREACH).
    const plain = Buffer.from(JSON.stringify({ e: expires, d: data }))
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', sealKey, iv).setAAD(AAD)
    const body = Buffer.concat([Buffer.of(VERSION), iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()])
    const value = body.toString('base64url')
    if (value.length > maxBytes) {
      throw new CarafeError('ERR_SESSION_TOO_LARGE', `the session cookie would be ${value.length} bytes, more than the ${maxBytes} a browser keeps (cookieStore({ maxBytes })); keep less in the session, or use a server store (sqliteStore(), redisStore()) for large sessions. Nothing was saved.`)
    }
    return value
  }

  return {
    kind: 'cookie',
    stateless: true,
    async open(env: StoreEnv) {
      sealKey = env.key(COOKIE_KEY_PURPOSE)
      openKeys = env.keys(COOKIE_KEY_PURPOSE)
    },
    async get(id) {
      return unseal(id)
    },
    async apply(id, patch, ttl) {
      const found = id === '' ? undefined : unseal(id)
      if (found === undefined && patch.create !== true) return undefined
      const data = found?.data ?? {}
      // Serialize first: a value JSON cannot carry fails before anything changes.
      const set = Object.entries(patch.set ?? {})
      for (const [k, v] of set) toJson(k, v)
      for (const k of patch.delete ?? []) delete data[k]
      for (const [k, v] of set) putValue(data, k, v)
      return seal(data, Date.now() + Math.round(ttl * 1000))
    },
    async destroy() {
      // Nothing to forget on the server; the middleware clears the cookie in this browser.
    },
    async touch(id, ttl) {
      const found = unseal(id)
      return found === undefined ? undefined : seal(found.data, Date.now() + Math.round(ttl * 1000))
    },
  }
}

/** The session sealed in `value`, under any of `keys`; `undefined` for anything tampered, truncated or foreign (never throws). */
function openSealed(keys: readonly Buffer[], value: string): StoredSession | undefined {
  if (typeof value !== 'string' || value.length > 16384 || !B64URL_RE.test(value)) return undefined
  const body = Buffer.from(value, 'base64url')
  if (body.length < 1 + IV_BYTES + TAG_BYTES + 2 || body[0] !== VERSION) return undefined
  const iv = body.subarray(1, 1 + IV_BYTES)
  const tag = body.subarray(body.length - TAG_BYTES)
  const ct = body.subarray(1 + IV_BYTES, body.length - TAG_BYTES)
  for (const key of keys) {
    let plain: Buffer
    try {
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES }).setAAD(AAD)
      d.setAuthTag(tag)
      plain = Buffer.concat([d.update(ct), d.final()])
    } catch {
      continue // not this key (or tampered): try the older ones
    }
    try {
      const v = JSON.parse(plain.toString('utf8')) as { e?: unknown; d?: unknown }
      if (typeof v.e !== 'number' || typeof v.d !== 'object' || v.d === null || Array.isArray(v.d)) return undefined
      return { data: v.d as SessionRecord, expires: v.e }
    } catch {
      return undefined
    }
  }
  return undefined
}
