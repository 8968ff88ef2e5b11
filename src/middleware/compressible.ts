import { createRequire } from 'node:module'
import path from 'node:path'

type MimeDb = Readonly<Record<string, { readonly compressible?: boolean }>>

/** Text, JSON, JavaScript, XML and SVG, decided without the table. */
const USUALLY = /^(?:text\/|application\/(?:json|javascript|ecmascript|xml)$|image\/svg\+xml$)|\+(?:json|xml)$/
/**
 * Never compressed: server-sent events must reach the client event by event, and
 * `application/octet-stream` (which mime-db marks compressible) is the type of bytes of
 * unknown kind, often already compressed (archives, media).
 */
const NEVER = new Set(['text/event-stream', 'application/octet-stream'])
const CACHE_SIZE = 256

/**
 * Build the default "is this `Content-Type` worth compressing?" check: text, JSON,
 * JavaScript, XML and SVG, and the types mime-db marks compressible. mime-db is the table
 * inside the `mime-types` dependency, resolved from it (so no dependency of our own); it is
 * loaded here, once, and answers are remembered per distinct header value.
 *
 * @example
 * const compressible = createCompressibleCheck()
 * compressible('application/json; charset=utf-8') // true
 * compressible('image/png') // false
 */
export function createCompressibleCheck(): (type: string) => boolean {
  const db = loadMimeDb()
  const cache = new Map<string, boolean>()
  return function isCompressible(type) {
    let yes = cache.get(type)
    if (yes === undefined) {
      const semi = type.indexOf(';')
      const base = (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase()
      yes = !NEVER.has(base) && (USUALLY.test(base) || db?.[base]?.compressible === true)
      if (cache.size < CACHE_SIZE && type.length <= 200) cache.set(type, yes)
    }
    return yes
  }
}

let mimeDb: MimeDb | null | undefined

/** mime-db as `mime-types` sees it, or `null` if it cannot be found (then only the built-in rule applies). */
function loadMimeDb(): MimeDb | null {
  if (mimeDb !== undefined) return mimeDb
  try {
    const require = createRequire(import.meta.url)
    const from = path.dirname(require.resolve('mime-types'))
    mimeDb = require(require.resolve('mime-db', { paths: [from] })) as MimeDb
  } catch {
    mimeDb = null
  }
  return mimeDb
}
