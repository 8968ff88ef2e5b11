import { CarafeError } from '../core/errors.js'
import type { DatabaseDialect } from '../db/database.js'
import { labelOf, widgetFor, type Field } from './fields.js'
import type { ColumnInfo, TableInfo } from './introspect.js'
import type { AdminTableOptions } from './options.js'

/** Most rows a list page shows, whatever `perPage` says. */
export const MAX_PER_PAGE = 100

/** One managed table, its config checked against the live schema. */
export interface AdminTable {
  readonly name: string
  readonly label: string
  readonly info: TableInfo
  /** The single-column primary key. */
  readonly pk: ColumnInfo
  /** The key is an integer: ids in URLs must be digits. */
  readonly intKey: boolean
  readonly list: readonly string[]
  readonly search: readonly string[]
  readonly filters: readonly string[]
  readonly fields: readonly Field[]
  readonly perPage: number
  /** Columns by name, for lookups that must never accept a name from the request unchecked. */
  readonly columns: ReadonlyMap<string, ColumnInfo>
}

/**
 * Check every table and column the config names against the database, so that the only
 * identifiers that ever reach SQL are these: the request picks among them, never names one.
 */
export function resolveTables(config: Readonly<Record<string, AdminTableOptions | true>>, found: ReadonlyMap<string, TableInfo>, dialect: DatabaseDialect): Map<string, AdminTable> {
  const out = new Map<string, AdminTable>()
  for (const [name, raw] of Object.entries(config)) {
    const o: AdminTableOptions = raw === true ? {} : raw
    const info = found.get(name)
    if (info === undefined) throw configError(`the table "${name}" does not exist in the database`)
    const columns = new Map(info.columns.map((c) => [c.name, c]))
    const check = (what: string, list: readonly string[] | undefined): string[] => {
      for (const col of list ?? []) if (!columns.has(col)) throw configError(`tables.${name}.${what} names "${col}", which is not a column of ${name} (it has ${[...columns.keys()].join(', ')})`)
      return [...(list ?? [])]
    }
    if (info.primaryKey.length !== 1) throw configError(`the table "${name}" needs a single-column primary key for the admin to edit its rows (it has ${info.primaryKey.length === 0 ? 'none' : info.primaryKey.join(', ')})`)
    const pk = columns.get(info.primaryKey[0]!)!
    const list = o.list === undefined ? info.columns.slice(0, 5).map((c) => c.name) : check('list', o.list)
    const search = check('search', o.search)
    const filters = check('filters', o.filters)
    const fieldNames = o.fields === undefined ? info.columns.filter((c) => !(c === pk && c.generated)).map((c) => c.name) : check('fields', o.fields)
    check('widgets', Object.keys(o.widgets ?? {}))
    const fields = fieldNames.map((f): Field => {
      const column = columns.get(f)!
      const widget = o.widgets?.[f] ?? widgetFor(column, dialect)
      return { name: f, label: labelOf(f), widget, required: widget !== 'checkbox' && !column.nullable && !column.hasDefault, column }
    })
    const perPage = o.perPage ?? 25
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) throw configError(`tables.${name}.perPage must be a whole number from 1 to ${MAX_PER_PAGE}`)
    out.set(name, {
      name, label: o.label ?? labelOf(name), info, pk, intKey: /int|serial/.test(pk.dataType), list, search, filters, fields, perPage, columns,
    })
  }
  return out
}

function configError(message: string): CarafeError {
  return new CarafeError('ERR_ADMIN_CONFIG', `admin(): ${message}`)
}
