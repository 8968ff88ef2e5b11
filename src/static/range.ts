/** What a `Range` header asks of a representation of `size` bytes. */
export type RangeRequest =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' }

const FULL: RangeRequest = { kind: 'full' }
const UNSATISFIABLE: RangeRequest = { kind: 'unsatisfiable' }
/** More ranges than this in one header is not a real client (RFC 9110 §14.2 allows ignoring it). */
const MAX_RANGES = 64

/**
 * Parse a `Range` header (RFC 9110 §14.1.2) against a representation of `size` bytes.
 *
 * - A syntax error, or a unit other than `bytes`, is ignored: the answer is the full 200.
 * - No satisfiable range is a 416 (`Content-Range: bytes *\/size`).
 * - One range (or several that overlap or touch, merged) is a 206 with `Content-Range`.
 * - Several disjoint ranges get the full 200, which the RFC allows and which avoids
 *   multipart/byteranges (and the amplification attacks that come with it).
 *
 * @example
 * parseRange('bytes=0-99', 1000)  // { kind: 'partial', start: 0, end: 99 }
 * parseRange('bytes=-100', 1000)  // { kind: 'partial', start: 900, end: 999 }
 * parseRange('bytes=2000-', 1000) // { kind: 'unsatisfiable' }
 */
export function parseRange(header: string, size: number): RangeRequest {
  const eq = header.indexOf('=')
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return FULL
  const specs = header.slice(eq + 1).split(',')
  if (specs.length > MAX_RANGES) return FULL
  const ranges: Array<[number, number]> = []
  let sawAny = false
  for (const raw of specs) {
    const spec = raw.trim()
    if (spec === '') continue
    const m = /^(\d*)-(\d*)$/.exec(spec)
    if (m === null || (m[1] === '' && m[2] === '')) return FULL
    sawAny = true
    let start: number
    let end: number
    if (m[1] === '') {
      // Suffix range: the last N bytes.
      const n = Number(m[2])
      if (n === 0 || size === 0) continue
      start = Math.max(0, size - n)
      end = size - 1
    } else {
      start = Number(m[1])
      const last = m[2] === '' ? Infinity : Number(m[2])
      if (last < start) return FULL // RFC 9110 §14.1.1: an invalid range-spec makes the whole header invalid.
      if (start >= size) continue
      end = Math.min(last, size - 1)
    }
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return FULL
    ranges.push([start, end])
  }
  if (!sawAny) return FULL
  if (ranges.length === 0) return UNSATISFIABLE
  ranges.sort((a, b) => a[0] - b[0])
  let [start, end] = ranges[0]!
  for (let i = 1; i < ranges.length; i++) {
    const [s, e] = ranges[i]!
    if (s > end + 1) return FULL
    end = Math.max(end, e)
  }
  return { kind: 'partial', start, end }
}
