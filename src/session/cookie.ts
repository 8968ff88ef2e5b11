import { lazyRequire } from '../util/lazy.js'

/** Options for `c.setCookie()`: secure defaults, each one overridable. */
export interface CookieOptions {
  /** Lifetime in seconds; `undefined` makes a session cookie. @default undefined */
  maxAge?: number
  /** Absolute expiry (prefer `maxAge`). @default undefined */
  expires?: Date
  /** Cookie domain. @default undefined (this host only) */
  domain?: string
  /** Cookie path. @default '/' */
  path?: string
  /** Hide from JavaScript (`document.cookie`), against XSS theft. @default true */
  httpOnly?: boolean
  /** Send only over HTTPS. @default true on HTTPS (or behind a trusted proxy that says so), else false */
  secure?: boolean
  /** Cross-site sending, against CSRF. @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** CHIPS partitioned cookie. @default false */
  partitioned?: boolean
  /** Sign the value with the app's secrets (HMAC-SHA256), so tampering is detected. @default false */
  signed?: boolean
}

/**
 * Serialize a `Set-Cookie` value with the `cookie` library, which refuses names, domains and
 * paths that are not valid (so no header injection), and percent-encodes the value.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions, secureByDefault: boolean): string {
  const sameSite = options.sameSite ?? 'lax'
  return lazyRequire<typeof import('cookie')>('cookie').serialize(name, value, {
    maxAge: options.maxAge,
    expires: options.expires,
    domain: options.domain,
    path: options.path ?? '/',
    httpOnly: options.httpOnly ?? true,
    // Browsers drop SameSite=None cookies that are not Secure.
    secure: options.secure ?? (secureByDefault || sameSite === 'none'),
    sameSite,
    partitioned: options.partitioned,
  })
}
