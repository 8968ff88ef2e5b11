import { Readable } from 'node:stream'
import { Context, HTML, JSON_TYPE, OCTETS, type Respondable } from './context.js'
import { CarafeError } from './errors.js'

/**
 * Turn what a handler returned into the response on `c`:
 * string → HTML; plain object, array, number or boolean → JSON; bytes → octet-stream;
 * `ReadableStream`, Node stream or async iterable → streamed; `Response` → used as is;
 * a {@link Respondable} (e.g. `staticFile()`) → asked to respond; `undefined` or `c` itself →
 * whatever the handler already set on `c`.
 */
export function applyResult(c: Context<any>, value: unknown): void | Promise<void> {
  if (value === undefined) return
  return applyHandlerResult(c, value)
}

/**
 * {@link applyResult} for what a route handler returned, which must answer: `undefined`
 * with nothing set on `c` (no status, header or body) is a forgotten `return`, and
 * would otherwise go out as an empty 200. The dispatcher calls this one directly, so a
 * handler that returns a value pays the same two comparisons as before the check existed.
 */
export function applyHandlerResult(c: Context<any>, value: unknown): void | Promise<void> {
  if (value === undefined) {
    if (c.responseBody === null && c.statusCode === 200 && c.contentType === null && c.responseHeaders === null && !EMPTY_ON_PURPOSE.has(c)) throw noResponse(c)
    return
  }
  if (value === c) return
  switch (typeof value) {
    case 'string':
      c.body(value, undefined, c.contentType ?? HTML)
      return
    case 'number':
    case 'boolean':
      c.json(value)
      return
    case 'object':
      break
    default:
      throw new TypeError(`a handler returned a ${typeof value}; return a string, an object, bytes, a stream or a Response`)
  }
  if (value === null) {
    c.body(null)
    EMPTY_ON_PURPOSE.add(c)
    return
  }
  if (isRespondable(value)) return value.respond(c)
  // Plain objects and arrays (the common API case) skip the checks for the other kinds.
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto === Object.prototype || proto === Array.prototype || proto === null) {
    c.json(value)
    return
  }
  if (value instanceof Uint8Array) {
    c.body(value, undefined, c.contentType ?? OCTETS)
    return
  }
  if (value instanceof ArrayBuffer) {
    c.body(new Uint8Array(value), undefined, c.contentType ?? OCTETS)
    return
  }
  if (value instanceof Response) {
    c.body(value)
    return
  }
  if (value instanceof ReadableStream) {
    c.body(value, undefined, c.contentType ?? OCTETS)
    return
  }
  if (value instanceof Readable) {
    c.body(value as AsyncIterable<Uint8Array>, undefined, c.contentType ?? OCTETS)
    return
  }
  if (Symbol.asyncIterator in value || isGenerator(value)) {
    // Flask's default for a streamed generator is HTML; do the same for (async) generators.
    c.body(toAsyncIterable(value as Iterable<Uint8Array | string>), undefined, c.contentType ?? HTML)
    return
  }
  c.json(value)
}

function isRespondable(v: object): v is Respondable {
  return typeof (v as Partial<Respondable>).respond === 'function'
}

function isGenerator(v: object): boolean {
  return Object.prototype.toString.call(v) === '[object Generator]'
}

function toAsyncIterable(v: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>): AsyncIterable<Uint8Array | string> {
  if (Symbol.asyncIterator in v) return v
  return (async function* () { yield* v })()
}

/**
 * Contexts answered with `null` (an empty 200 on purpose), which look exactly like ones
 * nobody answered: a mounted Carafe app's handler returns `null`, and the outer route's
 * handler (the mount) then returns nothing. Only the `null` path pays for this.
 */
const EMPTY_ON_PURPOSE = new WeakSet<Context<any>>()

function noResponse(c: Context<any>): CarafeError {
  return new CarafeError('ERR_NO_RESPONSE', `the handler for ${c.req.method} ${c.path} returned nothing and set no response; return a value (a string, an object, c.json(…)), or set one on c (c.text(…), c.status(204))`)
}

/** The JSON content type, re-exported for writers. */
export { JSON_TYPE }
