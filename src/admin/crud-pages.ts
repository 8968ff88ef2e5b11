import type { Context } from '../core/context.js'
import type { ColumnInfo } from '../db/introspect.js'
import type { ValidationIssue } from '../forms/validate.js'
import type { ListPlan } from './crud-query.js'
import type { ResolvedTable } from './crud-table.js'

/** The pages a resource renders; each is a template that `templates/crud/<page>.html` in the app overrides. */
export type CrudPage = 'list' | 'detail' | 'form' | 'delete'

/** What the page builders get from a handler. */
export interface PageInput {
  t: ResolvedTable
  base: string
  row?: Record<string, unknown>
  items?: Record<string, unknown>[]
  plan?: ListPlan
  total?: number
  pages?: number
  query?: Record<string, string[]>
  values?: Record<string, unknown>
  errors?: Record<string, string[]>
  issues?: ValidationIssue[]
  /** A form-level message (a conflict with what is stored). */
  error?: string
}

interface PageOptions {
  /** The app crud() was given: its templates (a mounted app's own), not the outer app's. */
  app: { render(name: string, data: Record<string, unknown>, c: Context<any>): Promise<string> }
  table: string
  title?: string
  templates?: Partial<Record<CrudPage, string>>
}

/** One form input, as the default form template draws it. */
export interface FieldView {
  name: string
  label: string
  /** `text`, `number`, `checkbox`, `date`, `datetime-local`, `time`, `textarea`. */
  input: string
  step?: string
  required: boolean
  value: string
  checked: boolean
  errors: string[]
}

/**
 * Render one of a resource's pages with the data every default template uses:
 * `resource` (`title`, `base` URL, `pk`, `columns`), and per page `items` with `url`s and
 * `pagination` (list), `row` and `cells` (detail, delete), `fields` with values and errors
 * (form), plus `error` for a form-level message.
 */
export async function renderPage(c: Context<any>, o: PageOptions, page: CrudPage, d: PageInput, status?: number): Promise<unknown> {
  const { t, base } = d
  const name = o.templates?.[page] ?? `crud/${page}.html`
  const idOf = (row: Record<string, unknown>): string => encodeURIComponent(String(row[t.pk.name]))
  const resource = { title: o.title ?? o.table, table: o.table, base, pk: t.pk.name, columns: t.shown.map((col) => col.name), search: t.rules.search.length > 0 }
  const data: Record<string, unknown> = { resource, error: d.error ?? null, issues: d.issues ?? [] }
  if (d.row !== undefined) {
    data.row = d.row
    data.url = `${base}/${idOf(d.row)}`
    data.cells = t.shown.map((col) => ({ name: col.name, value: show(d.row![col.name]) }))
  }
  if (page === 'list') {
    const plan = d.plan!
    data.items = d.items!.map((row) => ({ row, url: `${base}/${idOf(row)}`, cells: t.shown.map((col) => ({ name: col.name, value: show(row[col.name]) })) }))
    const link = (n: number): string => pageUrl(base, d.query!, n)
    data.pagination = { page: plan.page, pages: d.pages, total: d.total, limit: plan.limit, prev: plan.page > 1 ? link(plan.page - 1) : null, next: plan.page < d.pages! ? link(plan.page + 1) : null }
    data.q = plan.q
    data.sort = plan.sort.map((s) => (s.desc ? '-' : '') + s.column).join(',')
  }
  if (page === 'form') {
    data.action = d.row === undefined ? base : `${base}/${idOf(d.row)}`
    data.creating = d.row === undefined
    data.fields = t.fields.filter((f) => !(f.primaryKey && f.autoIncrement)).map((f) => fieldView(f, d.values?.[f.name], d.errors?.[f.name] ?? []))
    data.errors = d.errors ?? {}
  }
  return c.html(await o.app.render(name, data, c), status)
}

function fieldView(col: ColumnInfo, value: unknown, errors: string[]): FieldView {
  const input = col.kind === 'integer' || col.kind === 'number' ? 'number'
    : col.kind === 'boolean' ? 'checkbox'
    : col.kind === 'date' ? 'date'
    : col.kind === 'datetime' ? 'datetime-local'
    : col.kind === 'time' ? 'time'
    : col.kind === 'json' ? 'textarea'
    : 'text'
  return {
    name: col.name,
    label: col.name.replace(/_/g, ' ').replace(/^./, (ch) => ch.toUpperCase()),
    input,
    step: col.kind === 'number' ? 'any' : undefined,
    required: !col.nullable && !col.hasDefault && col.kind !== 'boolean',
    value: formText(col, value),
    checked: value === true || value === 1,
    errors,
  }
}

/** A stored or submitted value as the text of its input (dates as the input types want them). */
function formText(col: ColumnInfo, value: unknown): string {
  if (value === undefined || value === null) return ''
  if (value instanceof Date) return col.kind === 'date' ? value.toISOString().slice(0, 10) : value.toISOString().slice(0, 16)
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

function show(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** The list URL for page `n`, keeping the other parameters (search, sort, filters) as they were. */
function pageUrl(base: string, query: Record<string, string[]>, n: number): string {
  const q = new URLSearchParams()
  for (const [k, vs] of Object.entries(query)) if (k !== 'page') for (const v of vs) q.append(k, v)
  q.set('page', String(n))
  return `${base}?${q.toString()}`
}
