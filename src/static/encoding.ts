import { lazyRequire } from '../util/lazy.js'

/** node:zlib on first use: only on-the-fly compression needs it. */
const zlib = (): typeof import('node:zlib') => lazyRequire<typeof import('node:zlib')>('node:zlib')

/** Content codings Carafe serves, in the order it prefers them. */
export type Coding = 'br' | 'gzip'

/** File-name suffix of a precompressed sibling for each coding (`app.js.br`, `app.js.gz`). */
export const SUFFIX: Readonly<Record<Coding, string>> = { br: '.br', gzip: '.gz' }

const ACCEPTED = new Map<string, ReadonlySet<string>>()

/**
 * The codings an `Accept-Encoding` header accepts (q > 0), RFC 9110 §12.5.3. `*` accepts
 * every coding not listed. Parsed once per distinct header (browsers send a handful).
 */
function acceptedCodings(header: string): ReadonlySet<string> {
  let set = ACCEPTED.get(header)
  if (set !== undefined) return set
  const yes = new Set<string>()
  const no = new Set<string>()
  let star = false
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';')
    const coding = name.trim().toLowerCase()
    if (coding === '') continue
    let q = 1
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)
      if (m !== null) q = Number(m[1])
    }
    const ok = q > 0
    if (coding === '*') star = ok
    else if (ok) yes.add(coding === 'x-gzip' ? 'gzip' : coding)
    else no.add(coding)
  }
  if (star) for (const c of ['br', 'gzip']) if (!no.has(c)) yes.add(c)
  set = yes
  if (ACCEPTED.size < 256) ACCEPTED.set(header, set)
  return set
}

/**
 * Pick the coding to send from those available, by the client's `Accept-Encoding`; `null`
 * for the identity (no header, or nothing acceptable). Brotli wins a tie: it is smaller.
 *
 * @example
 * chooseCoding('gzip, deflate, br', ['br', 'gzip']) // 'br'
 */
export function chooseCoding(header: string | undefined, available: readonly Coding[]): Coding | null {
  if (header === undefined || header === '' || available.length === 0) return null
  const accepted = acceptedCodings(header)
  for (const c of available) if (accepted.has(c)) return c
  return null
}

/**
 * Compress `data` off the main thread (zlib runs in libuv's pool). Brotli uses quality 5,
 * not the default 11, which is a hundred times slower for a few percent.
 */
export function compress(data: Uint8Array, coding: Coding): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => (err === null ? resolve(out) : reject(err))
    const { brotliCompress, constants, gzip } = zlib()
    if (coding === 'br') {
      brotliCompress(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 5,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      }, done)
    } else gzip(data, { level: 6 }, done)
  })
}
