import { Transform } from 'node:stream'
import * as zlib from 'node:zlib'

/**
 * Framing of a `Response` a handler returned (a proxy's `return fetch(upstream)`).
 *
 * The threat is response smuggling and garbled bodies: a `Response`'s own
 * `Content-Length`, `Transfer-Encoding` and `Connection` describe the message it came in
 * (or nothing at all, when user code set them by hand), not the one Carafe writes. Sent
 * as they are, a declared length shorter than the body lets the rest of the body be read
 * as further responses on a keep-alive connection, and a `fetch()` result, whose body
 * undici already decoded, would be sent with the upstream's `Content-Encoding: gzip` and
 * its compressed length. So the doors frame every message themselves: hop-by-hop and
 * framing headers are dropped (RFC 9110 §7.6.1), `Content-Encoding` goes when the body
 * was decoded, and a length Carafe keeps is enforced byte for byte.
 */

/** Never forwarded from a `Response` (RFC 9110 §7.6.1, RFC 9112 §6-7). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length'])

/** The codings undici's `fetch()` decodes; a result listing any other one comes with its body as it arrived (tried on Node 20). */
const DECODED_BY_FETCH = new Set(['gzip', 'x-gzip', 'deflate', 'br', ...('createZstdDecompress' in zlib ? ['zstd'] : [])])

/** Is this header one a door must not copy from a `Response` (see {@link copyResponseHeaders})? */
export function isFramingHeader(name: string): boolean {
  return HOP_BY_HOP.has(name)
}

/**
 * Was the body of `response` decoded from its `Content-Encoding`? True for a `fetch()`
 * result (its `type` is not `default`) whose codings are all ones fetch decodes; a
 * `Response` built by user code carries its body as given (`type: 'default'`).
 */
export function isDecoded(response: Response): boolean {
  if (response.type === 'default') return false
  const coding = response.headers.get('content-encoding')
  if (coding === null) return false
  const codings = coding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '')
  return codings.length > 0 && codings.every((c) => DECODED_BY_FETCH.has(c))
}

/**
 * Copy the end-to-end headers of `response` (all but `set-cookie`, which the caller copies
 * with `getSetCookie()`) through `set`, and return the body length Carafe may declare, or
 * -1 when it must not declare one.
 */
export function copyResponseHeaders(response: Response, set: (name: string, value: string) => void): number {
  const h = response.headers
  const conn = h.get('connection')
  // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
  const named = conn === null ? null : conn.toLowerCase().split(',').map((s) => s.trim())
  const decoded = isDecoded(response)
  for (const [k, v] of h) {
    if (k === 'set-cookie' || HOP_BY_HOP.has(k) || (named !== null && named.includes(k))) continue
    if (decoded && k === 'content-encoding') continue
    // RFC 9110 §8.8.3: a strong validator belongs to the encoded bytes, not the decoded ones.
    set(k, decoded && k === 'etag' && v.startsWith('"') ? `W/${v}` : v)
  }
  if (decoded || h.has('transfer-encoding')) return -1
  const length = h.get('content-length')
  return length !== null && /^[ \t]*\d{1,15}[ \t]*$/.test(length) ? Number(length) : -1
}

/** The error a body gets when it does not match the length Carafe declared for it. */
function lengthMismatch(declared: number, got: string): Error {
  return new Error(`the Response body is ${got} than its Content-Length (${declared}); the connection was closed so no client reads past it`)
}

/** A Node stream that passes exactly `length` bytes and fails on more or fewer. */
export function exactLength(length: number): Transform {
  let left = length
  let over = false
  const limit: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (over) return done()
      if (chunk.byteLength > left) {
        // The declared bytes go out (the client sees the head and a cut-off body), then the
        // error cuts the connection before anything past them.
        done(null, chunk.subarray(0, left))
        left = 0
        over = true
        setImmediate(() => limit.destroy(lengthMismatch(length, 'longer')))
        return
      }
      left -= chunk.byteLength
      done(null, chunk)
    },
    flush(done) {
      done(over ? lengthMismatch(length, 'longer') : left === 0 ? null : lengthMismatch(length, 'shorter'))
    },
  })
  return limit
}

/** {@link exactLength} for the Fetch door. */
export function exactLengthStream(length: number): TransformStream<Uint8Array, Uint8Array> {
  let left = length
  return new TransformStream({
    transform(chunk, controller) {
      if (chunk.byteLength > left) return controller.error(lengthMismatch(length, 'longer'))
      left -= chunk.byteLength
      controller.enqueue(chunk)
    },
    flush(controller) {
      if (left !== 0) controller.error(lengthMismatch(length, 'shorter'))
    },
  })
}
