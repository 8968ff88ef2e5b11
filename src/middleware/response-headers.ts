import type { Context } from '../core/context.js'

/**
 * Response-header helpers for middleware that runs on the way out. A handler may answer
 * with a `Response`, whose own headers the doors send unless `c` sets the same name (then
 * `c` wins), so "the header the response will carry" means: `c`'s value, else the
 * `Response`'s.
 */

/**
 * The value a response header will be sent with, or `undefined`.
 *
 * @example
 * readHeader(c, 'content-encoding') // 'gzip'
 */
export function readHeader(c: Context<any>, name: string): string | undefined {
  const own = c.getHeader(name)
  if (own !== undefined) return Array.isArray(own) ? own.join(', ') : own
  const body = c.responseBody
  return body instanceof Response ? body.headers.get(name) ?? undefined : undefined
}

/**
 * The status the response will be sent with (a `Response` body carries its own).
 *
 * @example
 * if (responseStatus(c) === 304) return
 */
export function responseStatus(c: Context<any>): number {
  const body = c.responseBody
  return body instanceof Response ? body.status : c.statusCode
}

/**
 * Add `field` to the response's `Vary` (RFC 9110 §12.5.5), keeping what is there: the
 * field is not repeated, and `Vary: *` already covers everything.
 *
 * @example
 * appendVary(c, 'Origin') // 'Accept-Encoding' becomes 'Accept-Encoding, Origin'
 */
export function appendVary(c: Context<any>, field: string): void {
  const old = readHeader(c, 'vary')
  if (old === undefined || old.trim() === '') {
    c.header('vary', field)
    return
  }
  const want = field.toLowerCase()
  for (const part of old.split(',')) {
    const f = part.trim().toLowerCase()
    if (f === '*' || f === want) return
  }
  c.header('vary', `${old}, ${field}`)
}

/**
 * True when the response will carry header `name`, set on `c` or on a `Response` body.
 *
 * @example
 * if (!hasHeader(c, 'x-frame-options')) c.header('x-frame-options', 'DENY')
 */
export function hasHeader(c: Context<any>, name: string): boolean {
  if (c.getHeader(name) !== undefined) return true
  const body = c.responseBody
  return body instanceof Response && body.headers.has(name)
}
