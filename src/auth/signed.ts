import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * A small signed, expiring token for when there is no server-side store to keep a random
 * token's hash in (a stateless `cookieStore()`): `<base64url JSON>.<HMAC-SHA256>`. The
 * payload is readable (it holds a user id, an expiry and a session version, nothing
 * secret); the MAC, over the purpose and the payload, makes it unforgeable and keeps a
 * token made for one purpose (remember-me) from being used for another (password reset).
 */
export interface SignedPayload {
  /** The user id. */
  u: string | number
  /** The session version stamp, or `null`. */
  v: string | null
  /** Expiry, epoch milliseconds. */
  e: number
}

export function signPayload(purpose: string, key: Uint8Array, payload: SignedPayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  return `${body}.${mac(purpose, key, body)}`
}

/** The payload when the MAC matches one of `keys` and it has not expired; `undefined` otherwise (never throws). */
export function openPayload(purpose: string, keys: readonly Uint8Array[], token: string, now = Date.now()): SignedPayload | undefined {
  if (token.length > 2048) return undefined
  const dot = token.indexOf('.')
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return undefined
  const body = token.slice(0, dot)
  const given = Buffer.from(token.slice(dot + 1))
  const ok = keys.some((k) => {
    const want = Buffer.from(mac(purpose, k, body))
    return want.length === given.length && timingSafeEqual(want, given)
  })
  if (!ok) return undefined
  let p: unknown
  try {
    p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof p !== 'object' || p === null) return undefined
  const { u, v, e } = p as Record<string, unknown>
  if ((typeof u !== 'string' && typeof u !== 'number') || (typeof v !== 'string' && v !== null) || typeof e !== 'number' || e <= now) return undefined
  return { u, v, e }
}

function mac(purpose: string, key: Uint8Array, body: string): string {
  return createHmac('sha256', key).update(`${purpose}\0${body}`).digest('base64url')
}
