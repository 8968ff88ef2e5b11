import { Readable, pipeline, type Transform } from 'node:stream'
import { brotliCompress, constants, createBrotliCompress, createGzip, gzip, type BrotliOptions, type ZlibOptions } from 'node:zlib'
import type { BodyValue, Context, FileBody } from '../core/context.js'
import type { Middleware } from '../core/compose.js'
import { CarafeError } from '../core/errors.js'
import { isDecoded, isFramingHeader } from '../server/framing.js'
import { createEncodingNegotiator, type ContentCoding } from './accept-encoding.js'
import { createCompressibleCheck } from './compressible.js'
import { appendVary, readHeader, responseStatus } from './response-headers.js'

/** Options of {@link compress}. */
export interface CompressMiddlewareOptions {
  /** Codings to offer, in order of preference when the client rates them equally. @default ['br', 'gzip'] */
  encodings?: readonly ContentCoding[]
  /** Bodies of known size smaller than this many bytes are sent as they are (unless the client refuses `identity`). @default 1024 */
  threshold?: number
  /** gzip level, 1 (fast) to 9 (small). @default 6 */
  gzipLevel?: number
  /** Brotli quality, 0 to 11; above 5 it gets much slower for little gain on dynamic bodies. @default 4 */
  brotliQuality?: number
  /** Which `Content-Type`s to compress. @default text, JSON, JavaScript, XML, SVG, and the types mime-db marks compressible (not `application/octet-stream` nor `text/event-stream`) */
  filter?: (type: string, c: Context<any>) => boolean
}

const NO_TRANSFORM = /(?:^|,)[ \t]*no-transform[ \t]*(?:,|$)/i
const VARIES_ON_ENCODING = /(?:^|,)[ \t]*accept-encoding[ \t]*(?:,|$)/i

/**
 * Compress dynamic responses with Brotli or gzip, chosen by the request's `Accept-Encoding`.
 * Strings and bytes are compressed off the main thread (zlib's thread pool); streams
 * (`ReadableStream`, Node streams, async iterables) are piped through a zlib stream with
 * backpressure, each chunk flushed as it comes, so streamed pages arrive as they are
 * written. Bodies that are already encoded, partial (206), empty, 1xx/204/304, and
 * `Cache-Control: no-transform` are left alone; HEAD is answered as GET would be; a compressed answer drops
 * its `Content-Length` and has a strong `ETag` made weak (RFC 9110 §8.8.3: the bytes differ).
 * Compressible answers get `Vary: Accept-Encoding` whether or not they were compressed.
 *
 * Files (static files streamed from disk) are left to the static engine, which serves
 * precompressed siblings and caches the copies it compresses; so is any answer that
 * already varies on `Accept-Encoding`, as static files do when the engine negotiated the
 * coding. A `Response` body (e.g. from a mounted Fetch app) is compressed like a stream,
 * unless it has a `Content-Encoding`.
 *
 * @example
 * app.use(compress({ threshold: 2048 }))
 */
export function compress(options: CompressMiddlewareOptions = {}): Middleware {
  const encodings = options.encodings ?? ['br', 'gzip']
  if (encodings.length === 0 || encodings.some((e) => e !== 'br' && e !== 'gzip')) throw optionError(`encodings must list 'br' and/or 'gzip', got ${JSON.stringify(encodings)}`)
  const threshold = checkInt('threshold', options.threshold ?? 1024, 0, Number.MAX_SAFE_INTEGER)
  const level = checkInt('gzipLevel', options.gzipLevel ?? 6, 1, 9)
  const quality = checkInt('brotliQuality', options.brotliQuality ?? 4, 0, 11)
  const negotiate = createEncodingNegotiator(encodings)
  const filter = options.filter ?? createCompressibleCheck()
  const zip = zipper(level, quality)

  return async function compress(c, next) {
    await next()
    const body = c.responseBody
    if (body !== null && isFile(body)) return
    const status = responseStatus(c)
    if (status < 200 || status === 204 || (body === null && status !== 304)) return
    const type = readHeader(c, 'content-type')
    if (type === undefined || !filter(type, c) || isEncoded(c, body)) return
    const cacheControl = readHeader(c, 'cache-control')
    if (cacheControl !== undefined && NO_TRANSFORM.test(cacheControl)) return
    const vary = readHeader(c, 'vary')
    if (vary !== undefined && VARIES_ON_ENCODING.test(vary)) return
    // A 304 repeats the Vary of the 200 it stands for (RFC 9110 §15.4.5) and a 206 is a part
    // of the unencoded body: neither is compressed. HEAD goes through like GET (the doors drop
    // the body), so it reports GET's Content-Encoding and length (RFC 9110 §9.3.2).
    appendVary(c, 'Accept-Encoding')
    if (body === null || status === 206 || readHeader(c, 'content-range') !== undefined) return
    const choice = negotiate(c.req.header('accept-encoding'))
    const coding = choice.coding
    if (coding === null) return
    // A client that refuses the identity gets even small bodies compressed (RFC 9110 §12.5.3).
    const minimum = choice.identityRefused ? 1 : Math.max(threshold, 1)
    if (typeof body === 'string' || body instanceof Uint8Array) {
      if (!atLeast(body, minimum)) return
      const out = await zip.bytes(body, coding)
      markEncoded(c, coding)
      c.body(out)
      return
    }
    // A decoded fetch() result declares its compressed length: unknown is all that is known.
    const declared = body instanceof Response && isDecoded(body) ? NaN : Number(readHeader(c, 'content-length'))
    if (declared < minimum) return
    if (body instanceof Response) return compressResponse(c, body, zip, coding)
    const source = body instanceof ReadableStream ? Readable.fromWeb(body as import('node:stream/web').ReadableStream) : body
    markEncoded(c, coding)
    c.body(zip.stream(source, coding) as AsyncIterable<Uint8Array>)
  }
}

interface Zipper {
  bytes(data: string | Uint8Array, coding: ContentCoding): Promise<Buffer>
  stream(source: AsyncIterable<Uint8Array | string>, coding: ContentCoding): Transform
}

/** Compressors with the options built once. */
function zipper(level: number, quality: number): Zipper {
  const gzipOptions: ZlibOptions = { level }
  const brotliOptions: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: quality } }
  // Streams flush after every chunk: a streamed page or feed must not wait in zlib's buffer.
  const gzipStream: ZlibOptions = { level, flush: constants.Z_SYNC_FLUSH }
  const brotliStream: BrotliOptions = { ...brotliOptions, flush: constants.BROTLI_OPERATION_FLUSH }
  return {
    bytes(data, coding) {
      return new Promise((resolve, reject) => {
        const done = (err: Error | null, out: Buffer): void => (err === null ? resolve(out) : reject(err))
        if (coding === 'gzip') gzip(data, gzipOptions, done)
        else brotliCompress(data, brotliOptions, done)
      })
    },
    stream(source, coding) {
      const z = coding === 'gzip' ? createGzip(gzipStream) : createBrotliCompress(brotliStream)
      // Errors reach the door through `z` (pipeline destroys it), and a client going away
      // destroys `z`, which pipeline carries back to the source.
      pipeline(source, z, () => {})
      return z
    },
  }
}

/** Swap a `Response` body for one with the same status and headers and a compressed body. */
function compressResponse(c: Context<any>, res: Response, zip: Zipper, coding: ContentCoding): void {
  if (res.body === null || res.bodyUsed || res.body.locked) return
  const stream = zip.stream(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), coding)
  // The doors send the Response's own headers too, so its Content-Length must go from there.
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  // The copy is a Response of user code's making, so the doors trust its headers: none of
  // the upstream's framing may come along.
  for (const name of [...headers.keys()]) if (isFramingHeader(name)) headers.delete(name)
  headers.set('content-encoding', coding)
  const etag = headers.get('etag')
  if (etag?.startsWith('"') === true) headers.set('etag', `W/${etag}`)
  markEncoded(c, coding)
  c.body(new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status: res.status, statusText: res.statusText, headers }))
}

/**
 * Will the body go out encoded? A `fetch()` result keeps its upstream `Content-Encoding`
 * header although fetch decoded the body (the doors drop the header), so it is compressed
 * like any other body.
 */
function isEncoded(c: Context<any>, body: Exclude<BodyValue, null> | null): boolean {
  if (c.getHeader('content-encoding') !== undefined) return true
  return body instanceof Response && body.headers.has('content-encoding') && !isDecoded(body)
}

function markEncoded(c: Context<any>, coding: ContentCoding): void {
  c.header('content-encoding', coding)
  c.removeHeader('content-length')
  const etag = c.getHeader('etag')
  if (typeof etag === 'string' && etag.startsWith('"')) c.header('etag', `W/${etag}`)
}

/** Is the body at least `n` bytes? Measures UTF-8 only when the string's length cannot tell. */
function atLeast(body: string | Uint8Array, n: number): boolean {
  if (typeof body !== 'string') return body.byteLength >= n
  if (body.length >= n) return true
  return body.length * 3 >= n && Buffer.byteLength(body) >= n
}

function isFile(body: Exclude<BodyValue, null>): body is FileBody {
  return (body as Partial<FileBody>).kind === 'file'
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw optionError(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`)
  return value
}

function optionError(message: string): CarafeError {
  return new CarafeError('ERR_COMPRESS_OPTIONS', `compress: ${message}`)
}
