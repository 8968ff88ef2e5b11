/** Content codings the `compress()` middleware can produce. */
export type ContentCoding = 'br' | 'gzip'

/** What to send for one `Accept-Encoding` header. */
export interface EncodingChoice {
  /** The coding to compress with, or `null` to send the body as it is. */
  readonly coding: ContentCoding | null
  /** The client refused the unencoded body (`identity;q=0`, or `*;q=0` without `identity`). */
  readonly identityRefused: boolean
}

/** RFC 9110 §12.4.2: a qvalue is 0 to 1 with at most three decimals. */
const QVALUE = /^[ \t]*q[ \t]*=[ \t]*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)[ \t]*$/i
const IDENTITY: EncodingChoice = Object.freeze({ coding: null, identityRefused: false })
/** Distinct headers (of up to 200 characters) remembered per negotiator: browsers send a handful, so this only bounds what odd clients can fill. */
const CACHE_SIZE = 256

/**
 * Build a chooser of the content coding for `Accept-Encoding` (RFC 9110 §12.5.3) among
 * `supported`, listed in order of preference for codings the client rates equally. The
 * highest q wins; `*` rates every coding not named; the body is sent as it is when no
 * supported coding is acceptable, or when the client rates `identity` (itself or through
 * `*`) above them. An entry
 * with a malformed q is ignored, as if it were not sent; nothing in the header can throw.
 *
 * @example
 * const choose = createEncodingNegotiator(['br', 'gzip'])
 * choose('gzip;q=1, br;q=0.5').coding // 'gzip'
 */
export function createEncodingNegotiator(supported: readonly ContentCoding[]): (header: string | undefined) => EncodingChoice {
  const cache = new Map<string, EncodingChoice>()
  return function negotiate(header) {
    if (header === undefined || header === '') return IDENTITY
    let choice = cache.get(header)
    if (choice === undefined) {
      choice = choose(parseWeights(header), supported)
      if (cache.size < CACHE_SIZE && header.length <= 200) cache.set(header, choice)
    }
    return choice
  }
}

/** Coding name (lower-case, `x-gzip` read as `gzip`) to its highest q in the header. */
function parseWeights(header: string): Map<string, number> {
  const weights = new Map<string, number>()
  for (const entry of header.split(',')) {
    const semi = entry.indexOf(';')
    const name = (semi < 0 ? entry : entry.slice(0, semi)).trim().toLowerCase()
    if (name === '') continue
    let q = 1
    if (semi >= 0) {
      for (const param of entry.slice(semi + 1).split(';')) {
        if (!/^[ \t]*q[ \t]*=/i.test(param)) continue
        const m = QVALUE.exec(param)
        q = m === null ? NaN : Number(m[1])
      }
    }
    if (Number.isNaN(q)) continue
    const key = name === 'x-gzip' ? 'gzip' : name
    weights.set(key, Math.max(q, weights.get(key) ?? 0))
  }
  return weights
}

function choose(weights: Map<string, number>, supported: readonly ContentCoding[]): EncodingChoice {
  const star = weights.get('*')
  let best: ContentCoding | null = null
  let bestQ = 0
  for (const coding of supported) {
    const q = weights.get(coding) ?? star ?? 0
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  // An unlisted identity is acceptable but not preferred: it never wins over a listed coding.
  const identityQ = weights.get('identity') ?? star
  const identityRefused = identityQ === 0
  if (best === null || (identityQ !== undefined && identityQ > bestQ)) return identityRefused ? Object.freeze({ coding: null, identityRefused }) : IDENTITY
  return Object.freeze({ coding: best, identityRefused })
}
