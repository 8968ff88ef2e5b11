/**
 * Parse a `Cookie` header into name → value (RFC 6265 §5.4). Values are percent-decoded when
 * they decode cleanly and kept as sent otherwise; the first of duplicate names wins.
 */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (header === undefined || header === '') return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (name === '' || out.has(name)) continue
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (value.includes('%')) {
      try { value = decodeURIComponent(value) } catch { /* keep the raw text: a bad cookie must not fail the request */ }
    }
    out.set(name, value)
  }
  return out
}
