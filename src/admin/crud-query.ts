import type { Kysely, SelectQueryBuilder } from 'kysely'
import { HttpError } from '../core/errors.js'
import type { ColumnInfo, TableInfo } from '../db/introspect.js'
import { coerceFormValue } from '../db/introspect.js'
import { requirePeer } from '../util/peer.js'

/** A list request, read from the query string and checked against the table. */
export interface ListPlan {
  page: number
  limit: number
  /** Columns and directions, each a column of the table and in the sortable list. */
  sort: Array<{ column: string; desc: boolean }>
  /** Equality filters on declared filter columns, values coerced by column type. */
  filters: Array<{ column: string; values: unknown[] }>
  /** The search text (`?q=`), or `''`. */
  q: string
}

/** What the list parser needs to know, all names already checked against the table. */
export interface ListRules {
  table: TableInfo
  sortable: ReadonlySet<string>
  filters: ReadonlySet<string>
  search: readonly string[]
  pageSize: number
  maxPageSize: number
}

const RESERVED = new Set(['page', 'limit', 'sort', 'q'])
/** At most nine digits: `?page=1e9` and larger are refused before any arithmetic on them. */
const PAGE_RE = /^[1-9]\d{0,8}$/

/**
 * Read `?page=`, `?limit=`, `?sort=`, `?q=` and filter parameters. Security: a name from
 * the query string reaches SQL only after it is found in the introspected table *and* in
 * the list the resource declared (sortable, filters); anything else is a 400 before a
 * query is built. Values always travel as bound parameters.
 */
export function parseListQuery(query: Record<string, string[]>, rules: ListRules): ListPlan {
  const one = (name: string): string | undefined => {
    const v = query[name]
    if (v === undefined || v.length === 0) return undefined
    if (v.length > 1) throw bad(`give ?${name}= once`)
    return v[0]
  }
  const pageText = one('page')
  if (pageText !== undefined && pageText !== '' && !PAGE_RE.test(pageText)) throw bad('?page= must be a whole number from 1 to 999999999')
  const limitText = one('limit')
  if (limitText !== undefined && limitText !== '' && !/^[1-9]\d{0,8}$/.test(limitText)) throw bad(`?limit= must be a whole number from 1 (at most ${rules.maxPageSize} are given)`)
  const page = pageText === undefined || pageText === '' ? 1 : Number(pageText)
  const limit = limitText === undefined || limitText === '' ? rules.pageSize : Math.min(Number(limitText), rules.maxPageSize)

  const sort: ListPlan['sort'] = []
  const sortText = one('sort')
  if (sortText !== undefined && sortText !== '') {
    for (const part of sortText.split(',')) {
      const desc = part.startsWith('-')
      const column = desc ? part.slice(1) : part
      if (!rules.sortable.has(column) || rules.table.column(column) === undefined) {
        throw bad(`cannot sort by ${JSON.stringify(column)}: sortable columns are ${[...rules.sortable].join(', ') || '(none)'}`)
      }
      sort.push({ column, desc })
    }
  }

  const filters: ListPlan['filters'] = []
  for (const [name, values] of Object.entries(query)) {
    if (RESERVED.has(name)) continue
    const column = rules.filters.has(name) ? rules.table.column(name) : undefined
    if (column === undefined) throw bad(`unknown parameter ${JSON.stringify(name)}: filter columns are ${[...rules.filters].join(', ') || '(none)'}`)
    const given = values.filter((v) => v !== '')
    if (given.length === 0) continue
    filters.push({ column: name, values: given.map((v) => filterValue(column, v)) })
  }
  const q = one('q') ?? ''
  if (q !== '' && rules.search.length === 0) throw bad('this list has no search columns: ?q= is not available')
  if (q.length > 200) throw bad('?q= is at most 200 characters')
  return { page, limit, sort, filters, q }
}

function filterValue(column: ColumnInfo, text: string): unknown {
  const v = coerceFormValue(column, text)
  if ((column.kind === 'integer' || column.kind === 'number') && typeof v !== 'number') throw bad(`?${column.name}= must be a number`)
  if (column.kind === 'boolean' && typeof v !== 'boolean') throw bad(`?${column.name}= must be true or false`)
  return v
}

/** Escape `!`, `%` and `_` for `LIKE … ESCAPE '!'` (a `!` rather than `\`, which MariaDB string literals treat as an escape themselves). */
export function likePattern(q: string): string {
  return `%${q.replace(/[!%_]/g, '!$&')}%`
}

/** Add the plan's filters and search to a query (the count and the page share them). */
export function applyWhere<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, plan: ListPlan, rules: ListRules, boolValue: (v: boolean) => unknown): QB {
  const { sql } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/admin')
  let out = qb
  for (const f of plan.filters) {
    const vals = f.values.map((v) => (typeof v === 'boolean' ? boolValue(v) : v))
    out = (vals.length === 1 ? out.where(f.column, '=', vals[0]) : out.where(f.column, 'in', vals)) as QB
  }
  if (plan.q !== '') {
    const pattern = likePattern(plan.q)
    const op = sql.raw(rules.table.dialect === 'postgres' ? 'ilike' : 'like')
    out = out.where((eb) => eb.or(rules.search.map((col) => sql<boolean>`${sql.ref(col)} ${op} ${pattern} escape '!'`))) as QB
  }
  return out
}

/** Run a list plan: the page of rows and the total count. */
export async function runList(k: Kysely<any>, plan: ListPlan, rules: ListRules, boolValue: (v: boolean) => unknown): Promise<{ rows: Record<string, unknown>[]; total: number }> {
  const table = rules.table.name
  const countRow = await applyWhere(k.selectFrom(table).select((eb) => eb.fn.countAll().as('n')), plan, rules, boolValue).executeTakeFirst()
  const total = Number((countRow as { n?: unknown } | undefined)?.n ?? 0)
  let qb = applyWhere(k.selectFrom(table).selectAll(), plan, rules, boolValue)
  for (const s of plan.sort) qb = qb.orderBy(s.column, s.desc ? 'desc' : 'asc')
  // The primary key last, so pages never overlap or skip rows that sort equal.
  for (const pk of rules.table.primaryKey) if (!plan.sort.some((s) => s.column === pk)) qb = qb.orderBy(pk, 'asc')
  const rows = await qb.limit(plan.limit).offset((plan.page - 1) * plan.limit).execute()
  return { rows: rows as Record<string, unknown>[], total }
}

function bad(message: string): HttpError {
  return new HttpError(400, message, { code: 'ERR_BAD_QUERY' })
}
