import type { Context } from '../core/context.js'
import type { Middleware } from '../core/compose.js'
import { CarafeError, HttpError } from '../core/errors.js'
import { appendVary } from './response-headers.js'

/**
 * Which origins may read responses: `'*'` (any), one origin, a list of origins, a RegExp
 * tested against the request's `Origin`, or a function deciding per request.
 */
export type CorsOrigin = string | readonly string[] | RegExp | ((origin: string, c: Context<any>) => boolean | Promise<boolean>)

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * Allowed origins. Strings are origins (`'https://app.example'`: scheme, host, optional
   * port, no path); a RegExp should be anchored (`/^https:\/\/[a-z]+\.example$/`), since
   * `/example\.com/` also matches `https://example.com.evil.test`. The opaque origin `null`
   * (sandboxed frames, `file:` pages) is allowed only when listed as the string `'null'` or
   * accepted by a function. Required when `credentials` is true.
   * @default '*'
   */
  origin?: CorsOrigin
  /**
   * Send `Access-Control-Allow-Credentials: true`, so browsers send cookies and HTTP auth
   * and let the page read the answer. Browsers refuse `*` together with credentials, so
   * `origin: '*'` with `credentials: true` reflects the request's origin instead: any site
   * (except the opaque `null` origin) may then make credentialed requests and read the
   * answers. Say so only on purpose.
   * @default false
   */
  credentials?: boolean
  /** Seconds a browser may cache a preflight answer (`Access-Control-Max-Age`). @default none (browsers use 5 seconds) */
  maxAge?: number
  /** Methods a preflight allows (`Access-Control-Allow-Methods`). @default ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'] */
  allowMethods?: readonly string[]
  /** Request headers a preflight allows. @default the headers the preflight asks for (`Access-Control-Request-Headers`) */
  allowHeaders?: readonly string[]
  /** Response headers the page may read beyond the CORS-safelisted ones (`Access-Control-Expose-Headers`). @default [] */
  exposeHeaders?: readonly string[]
}

type Matcher = (origin: string, c: Context<any>) => boolean | Promise<boolean>

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const TOKEN_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/
/** A serialized origin (RFC 6454 §6.2): scheme "://" host [":" port], nothing else. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@,]+$/i

/**
 * CORS (the Fetch standard's §3.2): tells browsers which other origins may read this app's
 * responses, and answers preflights (`OPTIONS` with `Access-Control-Request-Method`) with
 * 204 itself, for any path it covers, without running the route. A preflight from an origin
 * that is not allowed gets 403; other requests from it are served without CORS headers, so
 * the browser keeps the answer from the page. Whenever the answer depends on the origin,
 * `Vary: Origin` is added (also to answers for requests without `Origin`), so shared caches
 * never hand one origin's answer to another.
 *
 * The headers are set on the way out, so they are on the handler's answer and on the error
 * responses of errors thrown by handlers; errors thrown by middleware added after `cors()`
 * skip it (add `cors()` last, or answer with a value instead of throwing there).
 *
 * @example
 * app.use('/api', cors({ origin: ['https://app.example'], credentials: true, maxAge: 600 }))
 */
export function cors(options: CorsOptions = {}): Middleware {
  const credentials = options.credentials === true
  if (credentials && options.origin === undefined) {
    throw new CarafeError('ERR_CORS_OPTIONS', "cors({ credentials: true }) needs an explicit origin: list the sites that may send cookies (origin: ['https://app.example']), or write origin: '*' to allow every site on purpose")
  }
  const origin = options.origin ?? '*'
  const anyOrigin = origin === '*' && !credentials
  const match = anyOrigin ? null : compileOrigin(origin)
  const methods = tokens(options.allowMethods ?? ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'], 'allowMethods').join(', ')
  const allowHeaders = options.allowHeaders === undefined ? null : tokens(options.allowHeaders, 'allowHeaders').join(', ')
  const expose = tokens(options.exposeHeaders ?? [], 'exposeHeaders').join(', ')
  const maxAge = options.maxAge
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0)) {
    throw new CarafeError('ERR_CORS_OPTIONS', `cors maxAge must be a whole number of seconds >= 0, got ${String(maxAge)}`)
  }

  function preflight(c: Context<any>, allowOrigin: string): Context<any> {
    c.header('access-control-allow-origin', allowOrigin)
    if (credentials) c.header('access-control-allow-credentials', 'true')
    c.header('access-control-allow-methods', methods)
    if (allowHeaders !== null) {
      if (allowHeaders !== '') c.header('access-control-allow-headers', allowHeaders)
    } else {
      const asked = c.req.header('access-control-request-headers')?.trim()
      if (asked !== undefined && TOKEN_LIST.test(asked)) c.header('access-control-allow-headers', asked)
      appendVary(c, 'Access-Control-Request-Headers')
    }
    if (maxAge !== undefined) c.header('access-control-max-age', maxAge)
    return c.body(null, 204)
  }

  function allow(c: Context<any>, allowOrigin: string): void {
    c.header('access-control-allow-origin', allowOrigin)
    if (credentials) c.header('access-control-allow-credentials', 'true')
    if (expose !== '') c.header('access-control-expose-headers', expose)
  }

  return async function cors(c, next) {
    const requestOrigin = c.req.header('origin')
    const isPreflight = requestOrigin !== undefined && c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined
    if (match === null) {
      if (isPreflight) return preflight(c, '*')
      await next()
      allow(c, '*')
      return
    }
    let allowed = false
    if (requestOrigin !== undefined && (ORIGIN.test(requestOrigin) || requestOrigin === 'null')) {
      const out = match(requestOrigin, c)
      allowed = out === true || (typeof out !== 'boolean' && (await out) === true)
    }
    if (isPreflight) {
      appendVary(c, 'Origin')
      if (allowed) return preflight(c, requestOrigin)
      throw new HttpError(403, `CORS preflight refused: the origin ${JSON.stringify(requestOrigin)} may not call this server`, {
        code: 'ERR_CORS_ORIGIN',
        headers: { vary: 'Origin' },
      })
    }
    await next()
    appendVary(c, 'Origin')
    if (allowed) allow(c, requestOrigin!)
  }
}

/** Turn the `origin` option into a test of the request's (already well-formed) `Origin`. */
function compileOrigin(origin: CorsOrigin): Matcher {
  // `'*'` with credentials: reflect any origin but the opaque `null`, which any sandboxed
  // iframe can send, so reflecting it would hand credentialed answers to any page.
  if (origin === '*') return (o) => o !== 'null'
  if (typeof origin === 'string') {
    const want = normalizeOrigin(origin)
    return (o) => o === want || o.toLowerCase() === want
  }
  if (typeof origin === 'function') return origin
  if (origin instanceof RegExp) {
    // A global or sticky RegExp keeps `lastIndex` between calls and would match every other time.
    const re = origin.global || origin.sticky ? new RegExp(origin.source, origin.flags.replace(/[gy]/g, '')) : origin
    return (o) => o !== 'null' && re.test(o)
  }
  if (!Array.isArray(origin)) throw new CarafeError('ERR_CORS_OPTIONS', 'cors origin must be a string, an array of strings, a RegExp or a function')
  const set = new Set(origin.map((o) => {
    if (o === '*') throw new CarafeError('ERR_CORS_OPTIONS', "cors origin lists cannot contain '*': write origin: '*' on its own to allow every site")
    return normalizeOrigin(o)
  }))
  return (o) => set.has(o) || set.has(o.toLowerCase())
}

/** Lower-case a configured origin and drop one trailing `/`; refuse anything that is not an origin. */
function normalizeOrigin(o: unknown): string {
  const text = typeof o === 'string' ? o.trim().replace(/\/$/, '').toLowerCase() : ''
  if (text !== 'null' && !ORIGIN.test(text)) {
    throw new CarafeError('ERR_CORS_OPTIONS', `cors origin ${JSON.stringify(o)} is not an origin: write scheme://host[:port] with no path, e.g. 'https://app.example'`)
  }
  return text
}

function tokens(list: readonly string[], option: string): string[] {
  for (const t of list) {
    if (typeof t !== 'string' || !TOKEN.test(t)) throw new CarafeError('ERR_CORS_OPTIONS', `cors ${option} must be header or method names, got ${JSON.stringify(t)}`)
  }
  return [...list]
}
