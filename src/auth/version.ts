import { createHmac, timingSafeEqual } from 'node:crypto'
import type { CurrentUser } from '../core/battery.js'
import type { UserId } from './options.js'

/** The fields a user's password hash is looked for in, by default. */
const HASH_FIELDS = ['passwordHash', 'hash', 'password_hash'] as const

/**
 * What a session's version is made from: `sessionVersion(user)` when given, else the
 * user's password hash field; `null` when there is neither (sessions then never go stale).
 */
export function versionSource(user: CurrentUser, custom: ((user: CurrentUser) => string | number | null | undefined) | undefined): string | null {
  const v = custom !== undefined ? custom(user) : HASH_FIELDS.map((f) => (user as Record<string, unknown>)[f]).find((x) => typeof x === 'string' && x !== '')
  return v === undefined || v === null ? null : String(v)
}

/**
 * Django's session auth hash: an HMAC of the user id and the password hash (or custom
 * version), stored in the session at login and compared on every request. Changing the
 * password changes it, so every session made before the change stops being logged in.
 * Keyed (the app's `'auth-version'` key) so the session store never holds anything
 * derived from the hash that could be checked offline.
 */
export function stamp(key: Uint8Array, id: UserId, source: string | null): string | null {
  if (source === null) return null
  const input = `${typeof id}:${id}\0${source}`
  let cache = STAMPS.get(key)
  if (cache === undefined) STAMPS.set(key, (cache = new Map()))
  let out = cache.get(input)
  if (out === undefined) {
    out = createHmac('sha256', key).update(input).digest('base64url').slice(0, 22)
    // Bounded: past the limit start over (a cheap LRU stand-in; misses only cost an HMAC).
    if (cache.size >= STAMP_CACHE_MAX) cache.clear()
    cache.set(input, out)
  }
  return out
}

/**
 * Stamps already computed, per key: every logged-in request checks one, and `createHmac`
 * builds a hash object each time (not measured here: bench/ has the session scenarios).
 * The stamp is a pure function of key, id and source, so a cached one is never stale.
 */
const STAMPS = new WeakMap<Uint8Array, Map<string, string>>()
const STAMP_CACHE_MAX = 4096

/**
 * Which of `keys` (newest first) made `stored`: 0 for the newest, a higher index for an
 * older secret (re-stamp it), -1 when none did. Both `null` (no version source) match.
 */
export function matchStamp(keys: readonly Uint8Array[], id: UserId, source: string | null, stored: unknown): number {
  if (source === null) return stored === null || stored === undefined ? 0 : -1
  if (typeof stored !== 'string') return -1
  const given = Buffer.from(stored)
  for (let i = 0; i < keys.length; i++) {
    const want = Buffer.from(stamp(keys[i]!, id, source)!)
    if (want.length === given.length && timingSafeEqual(want, given)) return i
  }
  return -1
}
