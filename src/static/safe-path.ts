/**
 * Turning a request path into a file path that cannot leave the root.
 *
 * The threat: a client asks for `/../../etc/passwd` in one of its many spellings
 * (`%2e%2e`, `..%2f`, `%5c..%5c`, overlong UTF-8 `%c0%ae`, NUL bytes) hoping one of them
 * survives decoding and reaches the filesystem. The rule: decode exactly once (with a
 * strict UTF-8 decoder, so malformed and overlong sequences are a 400), split on `/` only
 * after decoding, and refuse any segment that is `.` or `..`, contains `\` or NUL, or is
 * otherwise not a plain file name. A path is then the root joined with plain names, which
 * by construction stays inside the root (symlinks are checked separately, on the real path).
 */

import { isOpaqueSegment } from '../router/canonical.js'

/** How a request path maps onto the root: its plain segments, or why it was refused. */
export type SafePath =
  | { readonly ok: true; readonly segments: readonly string[]; readonly key: string }
  | { readonly ok: false; readonly status: 400 | 404; readonly reason: string }

/** Options for {@link toSafePath}. */
export interface SafePathOptions {
  /** Allow segments starting with `.` (`.env`, `.git/`). `.well-known` is always allowed. @default false */
  dotfiles?: boolean
}

/** Longest path we will look up, in characters (Linux's PATH_MAX); longer cannot exist. */
const MAX_PATH = 4096
/** Longest file name (Linux's NAME_MAX is 255 bytes; one UTF-16 unit is at least one byte). */
const MAX_NAME = 255
const WIN32 = process.platform === 'win32'

/**
 * Percent-decode a request path once, strictly: a malformed or overlong UTF-8 sequence is
 * `null` (the caller answers 400). `%2F` decodes to `/` and is split on afterwards, as
 * Python's http.server does, so `..%2f` is caught as a `..` segment.
 */
export function decodePath(raw: string): string | null {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}

/**
 * Check an already-decoded path (relative to the root, `/`-separated, leading `/`
 * optional) and return its segments. Empty segments (`//`) are skipped, as Python and
 * nginx do; everything that could climb out of the root, or that names a hidden file, is
 * refused: NUL is a 400 (never a valid name), the rest a 404 (nothing there to find).
 *
 * @example
 * toSafePath('/docs/나의 비밀 방.txt') // { ok: true, segments: ['docs', '나의 비밀 방.txt'], key: 'docs/나의 비밀 방.txt' }
 * toSafePath('/a/../b')               // { ok: false, status: 404, … }
 */
export function toSafePath(decoded: string, options: SafePathOptions = {}): SafePath {
  if (decoded.length > MAX_PATH) return notFound('the path is too long')
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'the path contains a NUL byte' }
  // Backslash is a separator on Windows; refuse it everywhere so every platform behaves alike.
  if (decoded.includes('\\')) return notFound('the path contains a backslash')
  return toSafeSegments(decoded.split('/'), options)
}

/**
 * {@link toSafePath} for a path already split into decoded segments (the request's
 * canonical segments: `c.pathSegments()`). Empty segments are skipped; a segment that
 * holds a `/`, `\` or NUL (sent percent-encoded) names no file (404).
 */
export function toSafeSegments(parts: readonly string[], options: SafePathOptions = {}): SafePath {
  const segments: string[] = []
  let length = 0
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i]!
    if (seg === '') continue
    length += seg.length + 1
    if (seg.charCodeAt(0) === 46 /* . */) {
      if (seg === '.' || seg === '..') return notFound('the path contains a "." or ".." segment')
      if (options.dotfiles !== true && !(seg === '.well-known' && segments.length === 0)) return notFound('hidden file')
    }
    if (seg.length > MAX_NAME) return notFound('a file name in the path is too long')
    if (isOpaqueSegment(seg)) return notFound('a segment of the path holds an encoded "/", "\\" or NUL')
    // Drive letters and alternate data streams (`C:`, `file::$DATA`) only mean something on Windows.
    if (WIN32 && seg.includes(':')) return notFound('the path contains ":"')
    segments.push(seg)
  }
  if (length > MAX_PATH) return notFound('the path is too long')
  return { ok: true, segments, key: segments.length === 1 ? segments[0]! : segments.join('/') }
}

function notFound(reason: string): SafePath {
  return { ok: false, status: 404, reason }
}
