import { checkHeaderList, type Context, type FileBody } from '../core/context.js'
import { evaluatePreconditions, ifRangeMatches } from './conditional.js'
import { chooseCoding } from './encoding.js'
import type { FileCache, FileEntry, Representation } from './file-cache.js'
import { parseRange } from './range.js'

/** Per-call changes to how a file is sent (for `staticFile()` and friends). */
export interface SendOverrides {
  /** `Content-Type` instead of the one from the extension. */
  type?: string
  /** `Content-Disposition` value (e.g. an attachment with a file name). */
  disposition?: string
}

/** Headers a 304 must repeat from the 200 (RFC 9110 §15.4.5); the rest describe a body it does not have. */
const KEEP_ON_304 = new Set(['etag', 'last-modified', 'cache-control', 'vary', 'access-control-allow-origin'])

/**
 * Answer a GET or HEAD for a cached file on `c`: choose the representation by
 * `Accept-Encoding`, then apply the preconditions (304, 412) and `Range` (206, 416).
 * Synchronous unless an on-the-fly compressed copy must be made first.
 */
export function sendEntry(c: Context<any>, cache: FileCache, key: string, e: FileEntry, over?: SendOverrides): void | Promise<void> {
  const req = c.req
  // RFC 9110 §14.2: Range only applies to GET. A ranged request gets the identity coding,
  // so byte offsets always refer to the file as it is on disk.
  const range = req.method === 'GET' ? req.header('range') : undefined
  if (e.codings.length !== 0 && range === undefined) {
    const coding = chooseCoding(req.header('accept-encoding'), e.codings)
    if (coding !== null) {
      // Precompressed siblings were revalidated with the file (FileCache.lookup).
      const sib = e.siblings[coding]
      if (sib !== undefined) return finish(c, e, sib, undefined, over)
      const made = cache.compressed(key, e, coding)
      if (made instanceof Promise) return made.then((rep) => finish(c, e, rep ?? e.identity, undefined, over))
      return finish(c, e, made, undefined, over)
    }
  }
  return finish(c, e, e.identity, range, over)
}

function finish(c: Context<any>, e: FileEntry, rep: Representation, range: string | undefined, over: SendOverrides | undefined): void {
  const req = c.req
  const ifNoneMatch = req.header('if-none-match')
  const ifModifiedSince = req.header('if-modified-since')
  const ifMatch = req.header('if-match')
  const ifUnmodifiedSince = req.header('if-unmodified-since')
  if (ifNoneMatch !== undefined || ifModifiedSince !== undefined || ifMatch !== undefined || ifUnmodifiedSince !== undefined) {
    const outcome = evaluatePreconditions({ ifNoneMatch, ifModifiedSince, ifMatch, ifUnmodifiedSince }, rep.etag, e.stamp.mtimeMs)
    if (outcome === 304) {
      const h = rep.headers
      for (let i = 0; i < h.length; i += 2) if (KEEP_ON_304.has(h[i]!)) c.header(h[i]!, h[i + 1]!)
      c.body(null, 304)
      return
    }
    if (outcome === 412) {
      c.header('content-length', 0)
      c.body(null, 412)
      return
    }
  }
  const type = over?.type ?? e.type
  if (range !== undefined) {
    const ifRange = req.header('if-range')
    if (ifRange === undefined || ifRangeMatches(ifRange, rep.etag, e.stamp.mtimeMs)) {
      const r = parseRange(range, rep.size)
      if (r.kind === 'unsatisfiable') {
        setHeaders(c, rep.headers)
        c.header('content-range', `bytes */${rep.size}`)
        c.header('content-length', 0)
        c.body(null, 416)
        return
      }
      if (r.kind === 'partial') {
        setHeaders(c, rep.headers)
        if (over?.disposition !== undefined) c.header('content-disposition', over.disposition)
        c.header('content-range', `bytes ${r.start}-${r.end}/${rep.size}`)
        c.header('content-length', r.end - r.start + 1)
        c.body(rep.body !== null ? rep.body.subarray(r.start, r.end + 1) : fileBody(rep.path, r.start, r.end), 206, type)
        return
      }
    }
  }
  if (over === undefined) {
    // The common case: the whole header set of a 200 was built (and checked) with the
    // entry; the Node door writes it as is.
    rep.withType ??= checkHeaderList(['content-type', type, ...rep.headers])
    c.setHeaderList(rep.withType)
    c.body(rep.body ?? fileBody(rep.path, 0, rep.size - 1), 200)
    return
  }
  setHeaders(c, rep.headers)
  if (over.disposition !== undefined) c.header('content-disposition', over.disposition)
  c.body(rep.body ?? fileBody(rep.path, 0, rep.size - 1), 200, type)
}

function fileBody(path: string, start: number, end: number): FileBody {
  return { kind: 'file', path, start, end }
}

/** Put a prebuilt flat name/value header list on `c`. */
export function setHeaders(c: Context<any>, h: readonly string[]): void {
  for (let i = 0; i < h.length; i += 2) c.header(h[i]!, h[i + 1]!)
}

/**
 * A `Content-Disposition: attachment` value for `name` (RFC 6266): a plain-ASCII
 * `filename` for old clients and a UTF-8 `filename*` for the rest; quotes, backslashes
 * and control characters can never break out of the header.
 */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
  return ascii === name ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`
}
