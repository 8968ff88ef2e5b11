import type { StandardSchemaV1 } from '@standard-schema/spec'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CarafeError } from '../core/errors.js'
import type { Database } from '../db/database.js'
import { tableInfo, type ColumnInfo, type TableInfo } from '../db/introspect.js'
import type { ListRules } from './crud-query.js'

/** The keys of an object schema, when the library shows them (zod's `shape`, valibot's `entries`); else `undefined`. */
export function schemaFields(schema: StandardSchemaV1): string[] | undefined {
  const s = schema as unknown as { shape?: unknown; entries?: unknown }
  const shape = typeof s.shape === 'object' && s.shape !== null ? s.shape : typeof s.entries === 'object' && s.entries !== null ? s.entries : undefined
  return shape === undefined ? undefined : Object.keys(shape)
}

/** What a resource knows once its table has been introspected. */
export interface ResolvedTable {
  info: TableInfo
  pk: ColumnInfo
  /** The columns forms show and writes may set: the schema's fields found in the table. */
  fields: ColumnInfo[]
  /** The columns answers and pages show (JSON, list, detail): see `CrudOptions.columns`. */
  shown: ColumnInfo[]
  rules: ListRules
}

/** The declared names of a resource, checked against the live table once, on first use. */
export interface TableDeclaration {
  db: Database<any>
  table: string
  schema: StandardSchemaV1
  sortable?: readonly string[]
  filters?: readonly string[]
  search?: readonly string[]
  columns?: readonly string[]
  pageSize: number
  maxPageSize: number
}

/**
 * Introspect the table and check every declared name against it: a sortable, filter or
 * search name that is not a column, a search column that is not text, or a table without a
 * one-column primary key is an `ERR_CRUD_CONFIG` naming what to fix.
 */
export async function resolveTable(d: TableDeclaration): Promise<ResolvedTable> {
  const info = await tableInfo(d.db, d.table)
  const where = `crud(${JSON.stringify(d.table)})`
  if (info.primaryKey.length !== 1) throw new CarafeError('ERR_CRUD_CONFIG', `${where}: the table needs a primary key of one column (it has ${info.primaryKey.length === 0 ? 'none' : info.primaryKey.join(', ')})`)
  const pk = info.column(info.primaryKey[0]!)!
  const check = (label: string, names: readonly string[]): ColumnInfo[] => names.map((n) => {
    const col = info.column(n)
    if (col === undefined) throw new CarafeError('ERR_CRUD_CONFIG', `${where}: ${label} names ${JSON.stringify(n)}, which is not a column of the table (columns: ${info.columns.map((c) => c.name).join(', ')})`)
    return col
  })
  const declared = schemaFields(d.schema)
  const fields = declared === undefined ? info.columns.filter((c) => !c.autoIncrement) : declared.flatMap((n) => info.column(n) ?? [])
  const sortable = d.sortable === undefined ? [pk, ...fields.filter((f) => f !== pk)] : check('sortable', d.sortable)
  const filters = check('filters', d.filters ?? [])
  const search = check('search', d.search ?? [])
  for (const s of search) if (s.kind !== 'text') throw new CarafeError('ERR_CRUD_CONFIG', `${where}: search column ${JSON.stringify(s.name)} is not a text column (${s.dataType})`)
  if (!Number.isInteger(d.pageSize) || d.pageSize < 1 || !Number.isInteger(d.maxPageSize) || d.maxPageSize < d.pageSize) {
    throw new CarafeError('ERR_CRUD_CONFIG', `${where}: pageSize and maxPageSize must be whole numbers with 1 ≤ pageSize ≤ maxPageSize`)
  }
  // Columns neither in the schema nor filled in by the database (a password hash) stay
  // private unless listed: a resource shows what it lets users write, and what the database adds.
  const shown = d.columns === undefined ? [pk, ...fields, ...info.columns.filter((c) => c.hasDefault)].filter((c, i, all) => all.indexOf(c) === i) : check('columns', d.columns)
  if (!shown.includes(pk)) shown.unshift(pk)
  return {
    info,
    pk,
    fields,
    shown,
    rules: {
      table: info,
      sortable: new Set(sortable.map((c) => c.name)),
      filters: new Set(filters.map((c) => c.name)),
      search: search.map((c) => c.name),
      pageSize: d.pageSize,
      maxPageSize: d.maxPageSize,
    },
  }
}

/** An id from the URL as the primary key's value, or `undefined` (a 404) when it cannot be one. */
export function parseId(pk: ColumnInfo, text: string): string | number | undefined {
  if (text.length === 0 || text.length > 256) return undefined
  if (pk.kind === 'integer') {
    if (!/^-?\d{1,16}$/.test(text)) return undefined
    const n = Number(text)
    return Number.isSafeInteger(n) ? n : undefined
  }
  return text
}

/** A row as the API shows it: booleans stored as 0/1 (SQLite, MariaDB) become booleans. */
export function fromDb(t: ResolvedTable, row: Record<string, unknown>): Record<string, unknown> {
  for (const c of t.info.columns) {
    if (c.kind === 'boolean' && typeof row[c.name] === 'number') row[c.name] = row[c.name] !== 0
  }
  return row
}

/** A row with only the columns the resource shows. */
export function present(t: ResolvedTable, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const c of t.shown) if (c.name in row) out[c.name] = row[c.name]
  return out
}

/**
 * The folder of the default templates: next to this module (`dist/admin/templates`, copied
 * there by the build), else the package's `src/admin/templates` (a test build, which tsc
 * compiles without copying files).
 */
export function defaultTemplatesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const candidates = [path.join(here, 'templates'), path.resolve(here, '../../src/admin/templates'), path.resolve(here, '../../../src/admin/templates')]
  return candidates.find((d) => existsSync(path.join(d, 'crud'))) ?? candidates[0]!
}
