import type { Context } from '../core/context.js'
import type { Middleware } from '../core/compose.js'
import { CarafeError } from '../core/errors.js'
import { hasHeader } from './response-headers.js'

/**
 * Content-Security-Policy directives by name, camelCase (`scriptSrc`) or as written
 * (`'script-src'`): a list of sources, one string, `true` for a directive without a value
 * (`upgradeInsecureRequests: true`), or `false` to drop a default one.
 */
export type CspDirectives = Record<string, readonly string[] | string | boolean>

/** Options of {@link secureHeaders}: each header's value, or `false` to leave it out. */
export interface SecureHeadersOptions {
  /**
   * `Content-Security-Policy`: a whole policy as a string, or directives merged over the
   * default ones (so `{ scriptSrc: ["'self'", 'https://cdn.example'] }` keeps the rest).
   * @default "default-src 'self'; base-uri 'self'; frame-ancestors 'self'; object-src 'none'"
   */
  contentSecurityPolicy?: string | CspDirectives | false
  /** `Strict-Transport-Security`, sent only on HTTPS requests (RFC 6797 §7.2). @default 'max-age=31536000; includeSubDomains' */
  strictTransportSecurity?: string | false
  /** `X-Content-Type-Options`. @default 'nosniff' */
  xContentTypeOptions?: string | false
  /** `Referrer-Policy`. @default 'strict-origin-when-cross-origin' */
  referrerPolicy?: string | false
  /** `X-Frame-Options` (old browsers; new ones read CSP `frame-ancestors`). @default 'SAMEORIGIN' */
  xFrameOptions?: string | false
  /** `Cross-Origin-Opener-Policy`. @default 'same-origin' */
  crossOriginOpenerPolicy?: string | false
  /** `Cross-Origin-Resource-Policy` (`'same-origin'` stops other sites embedding your images and scripts). @default false */
  crossOriginResourcePolicy?: string | false
  /**
   * @deprecated Ignored: whether a request came over HTTPS is decided once, by `c.req.protocol`,
   * which believes `X-Forwarded-Proto` only from the proxies named by the app's `trustProxy`.
   */
  trustProxy?: boolean
}

const DEFAULT_CSP: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'base-uri': "'self'",
  'frame-ancestors': "'self'",
  'object-src': "'none'",
}

/**
 * Security headers with safe defaults, in the spirit of helmet and Hono's `secureHeaders`:
 * a restrictive Content-Security-Policy, HSTS on HTTPS, `nosniff`, a privacy-keeping
 * Referrer-Policy, same-origin framing and a same-origin opener policy. A header the
 * handler already set is left as it is, so one route can relax its own policy. The header
 * values are built once, here; each request only copies them.
 *
 * @example
 * app.use(secureHeaders({ contentSecurityPolicy: { imgSrc: ["'self'", 'data:'] } }))
 */
export function secureHeaders(options: SecureHeadersOptions = {}): Middleware {
  const list: string[] = []
  const add = (name: string, value: string | false | undefined, fallback: string | false): void => {
    const v = value === undefined ? fallback : value
    if (v !== false) list.push(name, checkValue(name, v))
  }
  const csp = options.contentSecurityPolicy
  add('content-security-policy', typeof csp === 'object' && csp !== null ? buildCsp(csp) : csp, buildCsp({}))
  add('x-content-type-options', options.xContentTypeOptions, 'nosniff')
  add('referrer-policy', options.referrerPolicy, 'strict-origin-when-cross-origin')
  add('x-frame-options', options.xFrameOptions, 'SAMEORIGIN')
  add('cross-origin-opener-policy', options.crossOriginOpenerPolicy, 'same-origin')
  add('cross-origin-resource-policy', options.crossOriginResourcePolicy, false)
  const hstsOption = options.strictTransportSecurity ?? 'max-age=31536000; includeSubDomains'
  const hsts = hstsOption === false ? null : checkValue('strict-transport-security', hstsOption)

  return async function secureHeaders(c, next) {
    await next()
    for (let i = 0; i < list.length; i += 2) {
      if (!hasHeader(c, list[i]!)) c.header(list[i]!, list[i + 1]!)
    }
    if (hsts !== null && c.req.protocol === 'https' && !hasHeader(c, 'strict-transport-security')) c.header('strict-transport-security', hsts)
  }
}

/** Serialize CSP directives over the defaults (W3C CSP3 §2.2: `;`-separated, space-separated sources). */
function buildCsp(directives: CspDirectives): string {
  const merged: Record<string, string | false> = { ...DEFAULT_CSP }
  for (const [key, value] of Object.entries(directives)) {
    const name = key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw optionError(`"${key}" is not a CSP directive name`)
    const sources = typeof value === 'boolean' ? [] : typeof value === 'string' ? [value] : value
    for (const s of sources) {
      // A `;` or `,` in a source would start another directive or another policy.
      if (typeof s !== 'string' || /[;,\r\n\0]/.test(s)) throw optionError(`CSP ${name} has a source that is not one: ${JSON.stringify(s)}`)
    }
    merged[name] = value === false ? false : sources.join(' ').trim()
  }
  const parts: string[] = []
  for (const [name, value] of Object.entries(merged)) if (value !== false) parts.push(value === '' ? name : `${name} ${value}`)
  return parts.join('; ')
}

function checkValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || /[\r\n\0]/.test(value)) {
    throw optionError(`${name} must be a non-empty header value without CR, LF or NUL (or false to leave it out), got ${JSON.stringify(value)}`)
  }
  return value
}

function optionError(message: string): CarafeError {
  return new CarafeError('ERR_SECURE_HEADERS_OPTIONS', `secureHeaders: ${message}`)
}
