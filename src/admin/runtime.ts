import type { Context } from '../core/context.js'
import { HttpError } from '../core/errors.js'
import { dbErrorKind, mapDbError } from '../db/errors.js'
import { History } from './history.js'
import { introspect, type DynamicDb, type TableInfo } from './introspect.js'
import type { AdminOptions } from './options.js'
import { AdminTemplates } from './render.js'
import { resolveTables, type AdminTable } from './schema.js'

/** Everything one `admin()` app shares across requests. */
export class AdminRuntime {
  readonly options: AdminOptions
  readonly templates: AdminTemplates
  readonly history: History
  /** Every table the admin has looked at (managed ones and those their foreign keys point to). */
  infos = new Map<string, TableInfo>()
  #tables: Promise<Map<string, AdminTable>> | null = null

  constructor(options: AdminOptions) {
    this.options = options
    this.templates = new AdminTemplates(options.templates)
    this.history = new History(options.historyTable ?? 'carafe_admin_log', options.db.dialect)
  }

  get dialect(): AdminOptions['db']['dialect'] {
    return this.options.db.dialect
  }

  db(c: Context<any>): DynamicDb {
    return this.options.db.open(c.root) as DynamicDb
  }

  /** The checked tables, introspected on first use (again after a failure: the database may have been down). */
  tables(c: Context<any>): Promise<Map<string, AdminTable>> {
    this.#tables ??= this.#load(this.db(c)).catch((e: unknown) => {
      this.#tables = null
      throw e
    })
    return this.#tables
  }

  async #load(db: DynamicDb): Promise<Map<string, AdminTable>> {
    const names = Object.keys(this.options.tables)
    const found = await introspect(db, this.dialect, names)
    const refs = [...found.values()].flatMap((t) => t.columns.flatMap((col) => (col.references !== undefined && !found.has(col.references.table) ? [col.references.table] : [])))
    if (refs.length > 0) for (const [k, v] of await introspect(db, this.dialect, refs)) found.set(k, v)
    this.infos = found
    return resolveTables(this.options.tables, found, this.dialect)
  }

  /** The managed table the URL names, or a 404 (a name not in the config never reaches SQL). */
  async table(c: Context<any>, name: string): Promise<AdminTable> {
    const t = (await this.tables(c)).get(name)
    if (t === undefined) throw new HttpError(404, `nothing here: the admin manages no table "${name}"`, { code: 'ERR_NOT_FOUND' })
    return t
  }

  /** The id the history records for the logged-in user. */
  userId(c: Context<any>): string | null {
    const user = c.user
    if (user === null) return null
    const id = this.options.userId !== undefined ? this.options.userId(user) : (user as { id?: unknown }).id
    return id === undefined || id === null ? null : String(id)
  }

  async page(c: Context<any>, name: string, data: Record<string, unknown>, status = 200): Promise<Context<any>> {
    const tables = [...(await this.tables(c)).values()].map((t) => ({ name: t.name, label: t.label }))
    const html = await this.templates.render(c, name, { title: this.options.title ?? 'Administration', tables, ...data })
    return c.html(html, status)
  }
}

/** Values the engine refused as not fitting the column: too long, out of range, not of its type (PostgreSQL, MariaDB codes). */
const DOES_NOT_FIT = new Set(['22001', '22003', '22007', '22008', '22P02', 'ER_DATA_TOO_LONG', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_TRUNCATED_WRONG_VALUE', 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'])

/**
 * A database error a form can show: 409 for a unique, foreign-key, not-null or check
 * violation, 422 for a value that does not fit its column; `undefined` for others.
 */
export function conflictOf(e: unknown): HttpError | undefined {
  const kind = dbErrorKind(e)
  if (kind === 'unique' || kind === 'foreign-key' || kind === 'not-null' || kind === 'check') return mapDbError(e)
  const code = (e as { code?: unknown } | null)?.code
  if (typeof code === 'string' && DOES_NOT_FIT.has(code)) return new HttpError(422, 'a value does not fit its column (too long, out of range, or not of its type)', { code: 'ERR_ADMIN_VALUE', cause: e })
  return undefined
}
