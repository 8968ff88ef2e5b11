/**
 * Validators and conditional requests (RFC 9110 §8.8 and §13): ETag and Last-Modified
 * values, and what `If-None-Match`, `If-Modified-Since`, `If-Match`,
 * `If-Unmodified-Since` and `If-Range` make of them.
 */

/** The request headers that make a request conditional (each `undefined` when absent). */
export interface ConditionalHeaders {
  ifMatch: string | undefined
  ifNoneMatch: string | undefined
  ifModifiedSince: string | undefined
  ifUnmodifiedSince: string | undefined
}

/**
 * A strong ETag from a file's size and modification time (in microseconds, so two edits in
 * the same second that keep the size still get different tags).
 */
export function fileEtag(size: number, mtimeMs: number): string {
  return `"${Math.round(mtimeMs * 1000).toString(36)}-${size.toString(36)}"`
}

/** An IMF-fixdate (`Tue, 15 Nov 1994 08:12:31 GMT`) for a time in milliseconds. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString()
}

/** Parse an HTTP date; `NaN` when it is not one. */
export function parseHttpDate(text: string): number {
  // Date.parse accepts IMF-fixdate, RFC 850 and asctime forms, and also other things; a
  // date without a time zone would be read as local time, so insist on GMT/UTC or the
  // asctime form (which is defined as GMT).
  const t = text.trim()
  if (!/\b(GMT|UTC)$/.test(t) && !/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/.test(t)) return NaN
  return Date.parse(/GMT|UTC/.test(t) ? t : `${t} GMT`)
}

/**
 * Does an `If-None-Match` / `If-Match` list match `etag`? `weak` uses the weak comparison
 * (`W/"x"` matches `"x"`, RFC 9110 §8.8.3.2), which `If-None-Match` requires.
 */
export function etagListMatches(list: string, etag: string, weak: boolean): boolean {
  const t = list.trim()
  if (t === '*') return true
  const want = weak && etag.startsWith('W/') ? etag.slice(2) : etag
  if (!weak && etag.startsWith('W/')) return false
  for (const raw of t.split(',')) {
    let tag = raw.trim()
    if (tag.startsWith('W/')) {
      if (!weak) continue
      tag = tag.slice(2)
    }
    if (tag === want) return true
  }
  return false
}

/**
 * The outcome of the preconditions for a GET or HEAD (RFC 9110 §13.2.2): `412` when
 * `If-Match` or `If-Unmodified-Since` fails, `304` when the client's copy is current,
 * otherwise `200` (serve it).
 */
export function evaluatePreconditions(h: ConditionalHeaders, etag: string, mtimeMs: number): 200 | 304 | 412 {
  const seconds = Math.floor(mtimeMs / 1000) * 1000
  if (h.ifMatch !== undefined) {
    if (!etagListMatches(h.ifMatch, etag, false)) return 412
  } else if (h.ifUnmodifiedSince !== undefined) {
    const t = parseHttpDate(h.ifUnmodifiedSince)
    if (!Number.isNaN(t) && seconds > t) return 412
  }
  if (h.ifNoneMatch !== undefined) return etagListMatches(h.ifNoneMatch, etag, true) ? 304 : 200
  if (h.ifModifiedSince !== undefined) {
    const t = parseHttpDate(h.ifModifiedSince)
    if (!Number.isNaN(t) && seconds <= t) return 304
  }
  return 200
}

/**
 * Does `If-Range` still name this representation (RFC 9110 §13.1.5)? An entity tag must
 * match strongly; a date must equal Last-Modified exactly. Otherwise the Range is ignored
 * and the whole representation is sent.
 */
export function ifRangeMatches(ifRange: string, etag: string, mtimeMs: number): boolean {
  const v = ifRange.trim()
  if (v.startsWith('"') || v.startsWith('W/')) return !v.startsWith('W/') && v === etag
  return parseHttpDate(v) === Math.floor(mtimeMs / 1000) * 1000
}
