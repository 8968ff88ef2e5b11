import { HttpError } from '../core/errors.js'

/**
 * Parse a raw query string (or urlencoded form body, with `maxFields` bounding the count) (`a=1&b=%ED%95%9C&a=2`) into name → values, decoding `+` as a
 * space and `%XX` as UTF-8. A Map, so `__proto__` is just another key.
 */
export function parseQuery(raw: string, maxFields = Infinity): Map<string, string[]> {
  const out = new Map<string, string[]>()
  if (raw === '') return out
  let start = 0
  let count = 0
  while (start <= raw.length) {
    if (++count > maxFields) {
      throw new HttpError(413, `too many form fields: at most ${maxFields} per request`, { code: 'ERR_UPLOAD_LIMIT' })
    }
    let amp = raw.indexOf('&', start)
    if (amp < 0) amp = raw.length
    if (amp > start) {
      const eq = raw.indexOf('=', start)
      const hasEq = eq >= 0 && eq < amp
      const name = decodeQueryPart(raw.slice(start, hasEq ? eq : amp))
      const value = hasEq ? decodeQueryPart(raw.slice(eq + 1, amp)) : ''
      const list = out.get(name)
      if (list === undefined) out.set(name, [value])
      else list.push(value)
    }
    start = amp + 1
  }
  return out
}

function decodeQueryPart(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s
  if (!plus.includes('%')) return plus
  try {
    return decodeURIComponent(plus)
  } catch {
    throw new HttpError(400, 'the query string has a malformed percent-encoding (it must be UTF-8)', { code: 'ERR_BAD_URL_ENCODING' })
  }
}
