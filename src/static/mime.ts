import { createRequire } from 'node:module'
import path from 'node:path'

type MimeTypes = typeof import('mime-types')

/**
 * mime-types is loaded on first use, not at import: parsing its database takes about
 * 30 ms, which would otherwise delay every app's start (and `carafe serve`'s first answer,
 * usually a listing that needs no types at all).
 */
let mime: MimeTypes | null = null
function mimeTypes(): MimeTypes {
  mime ??= createRequire(import.meta.url)('mime-types') as MimeTypes
  return mime
}

const OCTETS = 'application/octet-stream'
const UTF8 = '; charset=utf-8'

/**
 * What mime-types answers for the extensions a web site is mostly made of (charset added
 * as below), so serving them never waits for its database: loading it costs about 25 ms,
 * which `carafe serve` would otherwise add to its first answer. A test checks every entry
 * against mime-types itself; other extensions ask mime-types.
 */
export const COMMON_TYPES: Readonly<Record<string, string>> = {
  '.html': `text/html${UTF8}`, '.htm': `text/html${UTF8}`, '.css': `text/css${UTF8}`,
  '.js': `text/javascript${UTF8}`, '.mjs': `text/javascript${UTF8}`, '.json': `application/json${UTF8}`,
  '.map': `application/json${UTF8}`, '.txt': `text/plain${UTF8}`, '.md': `text/markdown${UTF8}`,
  '.csv': `text/csv${UTF8}`, '.xml': 'application/xml', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.avif': 'image/avif', '.ico': 'image/vnd.microsoft.icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
  '.wasm': 'application/wasm', '.pdf': 'application/pdf', '.zip': 'application/zip',
  '.gz': 'application/gzip', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav', '.ogg': 'audio/ogg', '.bin': OCTETS,
  '.webmanifest': `application/manifest+json${UTF8}`,
}

/** Content types by lower-case extension, filled on first use (mime-types is a table lookup plus string work). */
const BY_EXT = new Map<string, string>(Object.entries(COMMON_TYPES))

/**
 * The `Content-Type` for a file name, from the mime-types library, with `charset=utf-8`
 * on text types (`text/html; charset=utf-8`); `application/octet-stream` when unknown.
 *
 * @example
 * contentTypeFor('index.html') // 'text/html; charset=utf-8'
 */
export function contentTypeFor(name: string): string {
  const ext = path.extname(name).toLowerCase()
  let type = BY_EXT.get(ext)
  if (type === undefined) {
    const found = ext === '' ? false : mimeTypes().contentType(ext)
    type = withCharset(found === false ? OCTETS : found)
    if (BY_EXT.size < 1024 + 64) BY_EXT.set(ext, type)
  }
  return type
}

/** `type` with `charset=utf-8` added when it is a text type without a charset. */
export function withCharset(type: string): string {
  return /^text\//.test(type) && !/;\s*charset=/i.test(type) ? type + UTF8 : type
}

/**
 * Is a content type worth compressing? Text, JSON, XML, JavaScript, SVG, WebAssembly and
 * the like are; images, video, archives and fonts in compressed formats are not.
 */
export function isCompressible(type: string): boolean {
  return /^(?:text\/|image\/svg\+xml|application\/(?:(?:[\w.-]+\+)?(?:json|xml)|javascript|ecmascript|wasm|x-javascript|x-sh|x-tar|x-font-ttf|x-font-otf|vnd\.ms-fontobject)\b|font\/(?:ttf|otf)\b)/i.test(type) ||
    /\+(?:json|xml|text)\b/i.test(type)
}
