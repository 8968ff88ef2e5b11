import { lazyRequire } from '../util/lazy.js'

/** node:crypto on first use (loading it costs start-up time every app would pay). */
const crypto = (): typeof import('node:crypto') => lazyRequire<typeof import('node:crypto')>('node:crypto')

/** An HMAC key: the app's derived key (`app.key('cookie')`), or any string or bytes. */
export type SigningKey = string | Uint8Array

/**
 * Sign `value` for the cookie `name`: `value.signature`, where the signature is
 * HMAC-SHA256 over the name and the value (so a signed value cannot be moved to another
 * cookie), base64url-encoded. The app signs cookies with `app.key('cookie')`.
 *
 * @example
 * signValue('sid', 'abc', app.key('cookie')) // 'abc.6yF…'
 */
export function signValue(name: string, value: string, secret: SigningKey): string {
  return `${value}.${mac(name, value, secret)}`
}

/**
 * Check a signed value against every key (newest first, so old secrets keep verifying
 * while you rotate; the app passes `app.keys('cookie')`) with a constant-time comparison. Returns the value, or `undefined` for a
 * missing, unsigned or tampered one: never throws.
 */
export function unsignValue(name: string, signed: string | undefined, secrets: readonly SigningKey[]): string | undefined {
  if (signed === undefined) return undefined
  const dot = signed.lastIndexOf('.')
  if (dot < 0) return undefined
  const value = signed.slice(0, dot)
  const given = Buffer.from(signed.slice(dot + 1))
  for (const secret of secrets) {
    const expected = Buffer.from(mac(name, value, secret))
    if (given.length === expected.length && crypto().timingSafeEqual(given, expected)) return value
  }
  return undefined
}

function mac(name: string, value: string, secret: SigningKey): string {
  return crypto().createHmac('sha256', secret).update(`${name}=${value}`).digest('base64url')
}
