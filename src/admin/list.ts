import type { Context } from '../core/context.js'
import { HttpError } from '../core/errors.js'
import { sql } from '../db/index.js'
import { displayValue, labelOf } from './fields.js'
import type { SelectQueryBuilder } from 'kysely'
import type { AnyDB, DynamicDb } from './introspect.js'
import { likePattern, parseId, parseListQuery, type ListQuery } from './query.js'
import { conflictOf, type AdminRuntime } from './runtime.js'
import type { AdminTable } from './schema.js'

/** Most ids one bulk delete takes. */
const MAX_BULK = 1000

/** The dashboard: every table with its row count, and the latest changes. */
export async function dashboard(rt: AdminRuntime, c: Context<any>): Promise<Context<any>> {
  const db = rt.db(c)
  const tables = [...(await rt.tables(c)).values()]
  const counts = await Promise.all(tables.map(async (t) => {
    const r = await db.selectFrom(t.name).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()
    return { name: t.name, label: t.label, count: Number((r as { n?: unknown } | undefined)?.n ?? 0) }
  }))
  await rt.history.ensure(db)
  const history = await rt.history.recent(db, { tables: tables.map((t) => t.name) })
  return rt.page(c, 'dashboard.html', { counts, history })
}

/** The list page: search, filters, sorting on listed columns, pages. */
export async function listPage(rt: AdminRuntime, c: Context<{ table: string }>): Promise<Context<any>> {
  const t = await rt.table(c, c.params.table)
  const lq = parseListQuery(t, new URLSearchParams(c.req.rawQuery))
  const db = rt.db(c)
  const total = Number(((await filtered(db.selectFrom(t.name), t, lq).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()) as { n?: unknown } | undefined)?.n ?? 0)
  const pages = Math.max(1, Math.ceil(total / t.perPage))
  const page = Math.min(lq.page, pages)
  let q = filtered(db.selectFrom(t.name), t, lq).select([...new Set([t.pk.name, ...t.list])])
  if (lq.sort !== null) q = q.orderBy(lq.sort.column, lq.sort.desc ? 'desc' : 'asc')
  q = q.orderBy(t.pk.name, lq.sort === null ? 'desc' : 'asc')
  const rows = (await q.limit(t.perPage).offset((page - 1) * t.perPage).execute()) as Array<Record<string, unknown>>
  const here = new URLSearchParams(c.req.rawQuery)
  const link = (changes: Record<string, string | null>): string => {
    const p = new URLSearchParams(here)
    for (const [k, v] of Object.entries(changes)) v === null ? p.delete(k) : p.set(k, v)
    const s = p.toString()
    return s === '' ? '?' : `?${s}`
  }
  const columns = t.list.map((name) => {
    const active = lq.sort?.column === name ? (lq.sort.desc ? 'desc' : 'asc') : null
    return { name, label: labelOf(name), sorted: active, href: link({ sort: active === 'asc' ? `-${name}` : name, page: null }) }
  })
  return rt.page(c, 'list.html', {
    table: { name: t.name, label: t.label },
    columns,
    rows: rows.map((r) => ({ id: String(r[t.pk.name]), cells: t.list.map((n) => displayValue(r[n])) })),
    q: lq.q,
    searchable: t.search.length > 0,
    filters: await filterChoices(rt, db, t, lq),
    sort: here.get('sort') ?? '',
    total, page, pages,
    prev: page > 1 ? link({ page: String(page - 1) }) : null,
    next: page < pages ? link({ page: String(page + 1) }) : null,
  })
}

/** Bulk delete: the checked rows of a list page, in one transaction, each one logged. */
export async function bulkDelete(rt: AdminRuntime, c: Context<{ table: string }>): Promise<Context<any>> {
  const t = await rt.table(c, c.params.table)
  const form = await c.req.form()
  const raw = form.getAll('ids').filter((v): v is string => typeof v === 'string')
  if (raw.length > MAX_BULK) throw new HttpError(400, `at most ${MAX_BULK} rows can be deleted at once`, { code: 'ERR_ADMIN_QUERY' })
  const ids = raw.map((r) => parseId(t, r))
  if (ids.some((id) => id === undefined)) throw new HttpError(400, `every id must be a ${t.intKey ? 'whole number' : 'key'} of ${t.name}`, { code: 'ERR_ADMIN_QUERY' })
  const back = `${c.basePath}/${encodeURIComponent(t.name)}`
  if (ids.length === 0) {
    c.flash('Select the rows to delete first.', 'warning')
    return c.redirect(back, 303)
  }
  const db = rt.db(c)
  await rt.history.ensure(db)
  const user = rt.userId(c)
  let n = 0
  try {
    n = await db.transaction().execute(async (tx) => {
      const rows = (await tx.selectFrom(t.name).selectAll().where(t.pk.name, 'in', ids).execute()) as Array<Record<string, unknown>>
      if (rows.length === 0) return 0
      await tx.deleteFrom(t.name).where(t.pk.name, 'in', rows.map((r) => r[t.pk.name])).execute()
      for (const r of rows) {
        await rt.history.record(tx, { user, table: t.name, row: String(r[t.pk.name]), action: 'delete', changes: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v, null]])) })
      }
      return rows.length
    })
  } catch (e) {
    const conflict = conflictOf(e)
    if (conflict === undefined) throw e
    c.flash(`Nothing was deleted: ${conflict.message}.`, 'error')
    return c.redirect(back, 303)
  }
  c.flash(`Deleted ${n} ${n === 1 ? 'row' : 'rows'} from ${t.label}.`, 'success')
  return c.redirect(back, 303)
}

/** The search and filter conditions: column names from the config, values bound as parameters. */
function filtered<O>(q: SelectQueryBuilder<AnyDB, string, O>, t: AdminTable, lq: ListQuery): SelectQueryBuilder<AnyDB, string, O> {
  for (const [col, value] of lq.filters) q = q.where(col, '=', filterValue(t, col, value))
  if (lq.q !== '' && t.search.length > 0) {
    const pattern = likePattern(lq.q)
    // `!` escapes: the one escape character every engine reads the same way in a literal.
    q = q.where((eb) => eb.or(t.search.map((col) => eb(sql<string>`lower(${sql.ref(col)})`, 'like', sql<string>`${pattern} escape '!'`))))
  }
  return q
}

/** A filter value as its column's type (an integer column refuses text with a 400, rather than a database error). */
function filterValue(t: AdminTable, col: string, value: string): string | number | boolean {
  const c = t.columns.get(col)!
  if (/^(bool|boolean)$/.test(c.dataType)) return value === '1' || value === 'true'
  if (/int|serial/.test(c.dataType)) {
    if (!/^-?\d{1,15}$/.test(value)) throw new HttpError(400, `the filter ${col} takes a whole number`, { code: 'ERR_ADMIN_QUERY' })
    return Number(value)
  }
  if (value.length > 500) throw new HttpError(400, `the filter ${col} is too long`, { code: 'ERR_ADMIN_QUERY' })
  return value
}

/** For each filter, the values to choose from: up to 50 distinct values (booleans: yes and no). */
async function filterChoices(rt: AdminRuntime, db: DynamicDb, t: AdminTable, lq: ListQuery): Promise<unknown[]> {
  return Promise.all(t.filters.map(async (col) => {
    const selected = lq.filters.find(([k]) => k === col)?.[1] ?? ''
    const c = t.columns.get(col)!
    let values: Array<{ value: string; label: string }>
    if (/^(bool|boolean)$/.test(c.dataType)) values = [{ value: '1', label: 'yes' }, { value: '0', label: 'no' }]
    else {
      const rows = (await db.selectFrom(t.name).select(col).distinct().where(col, 'is not', null).orderBy(col).limit(50).execute()) as Array<Record<string, unknown>>
      values = rows.map((r) => ({ value: String(r[col]), label: displayValue(r[col]) }))
    }
    return { name: col, label: labelOf(col), selected, values }
  }))
}
