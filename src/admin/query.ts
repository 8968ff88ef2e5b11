import { HttpError } from '../core/errors.js'
import type { AdminTable } from './schema.js'

/** The list page's query string, checked: every column in it is one the config names. */
export interface ListQuery {
  readonly q: string
  readonly filters: ReadonlyArray<readonly [column: string, value: string]>
  readonly sort: { readonly column: string; readonly desc: boolean } | null
  readonly page: number
}

const RESERVED = new Set(['q', 'sort', 'page'])
/** Longest search text: enough for any real search, short enough that `like` stays cheap. */
const MAX_Q = 200
const MAX_PAGE = 1_000_000

/**
 * Read `?q=`, `?sort=col` / `?sort=-col` (listed columns only), `?page=` and `?<filter>=`.
 * Anything else (an unknown column, a quote, a semicolon where a name should be) is a 400:
 * names are looked up in the table's config, never passed on.
 */
export function parseListQuery(t: AdminTable, params: URLSearchParams): ListQuery {
  const filters: Array<readonly [string, string]> = []
  for (const [k, v] of params) {
    if (RESERVED.has(k)) continue
    if (!t.filters.includes(k)) throw badRequest(`"${k}" is not a filter of ${t.name}${t.filters.length === 0 ? '' : ` (filters: ${t.filters.join(', ')})`}`)
    if (v !== '') filters.push([k, v])
  }
  const q = params.get('q') ?? ''
  if (q.length > MAX_Q) throw badRequest(`the search text is longer than ${MAX_Q} characters`)
  let sort: ListQuery['sort'] = null
  const s = params.get('sort')
  if (s !== null && s !== '') {
    const desc = s.startsWith('-')
    const column = desc ? s.slice(1) : s
    if (!t.list.includes(column)) throw badRequest(`cannot sort on "${column}": sort on one of ${t.list.join(', ')}`)
    sort = { column, desc }
  }
  const p = params.get('page')
  let page = 1
  if (p !== null && p !== '') {
    if (!/^\d{1,7}$/.test(p) || Number(p) < 1 || Number(p) > MAX_PAGE) throw badRequest('page must be a whole number from 1')
    page = Number(p)
  }
  return { q, filters, sort, page }
}

/** `%`, `_` and the escape (`!`) stand for themselves in a search. */
export function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[!%_]/g, (ch) => `!${ch}`)}%`
}

/** A key from the URL as the key column's type, or `undefined` when it cannot be one (a 404: no such row). */
export function parseId(t: AdminTable, raw: string): string | number | undefined {
  if (t.intKey) return /^-?\d{1,15}$/.test(raw) ? Number(raw) : undefined
  return raw.length > 0 && raw.length <= 500 ? raw : undefined
}

function badRequest(message: string): HttpError {
  return new HttpError(400, message, { code: 'ERR_ADMIN_QUERY' })
}
