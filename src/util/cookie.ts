import { lazyRequire } from './lazy.js'

/**
 * Parse a `Cookie` header into name → value (RFC 6265 §5.4) with the `cookie` library:
 * values are percent-decoded when they decode cleanly, the first of duplicate names wins,
 * and a malformed cookie never throws.
 */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (header === undefined || header === '') return out
  const parsed = lazyRequire<typeof import('cookie')>('cookie').parse(header)
  for (const name in parsed) {
    const value = parsed[name]
    if (value !== undefined) out.set(name, value)
  }
  return out
}
