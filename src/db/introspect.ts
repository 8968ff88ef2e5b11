import type { Kysely } from 'kysely'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import type { Database, DatabaseDialect } from './database.js'

/** What a column holds, as forms and query strings need to know it. */
export type ColumnKind = 'integer' | 'number' | 'boolean' | 'text' | 'date' | 'datetime' | 'time' | 'json' | 'binary' | 'other'

/** One column of a table, as {@link tableInfo} reads it from the live database. */
export interface ColumnInfo {
  name: string
  /** The engine's own type name, lower-case (`integer`, `int4`, `varchar`, `tinyint(1)` …). */
  dataType: string
  kind: ColumnKind
  nullable: boolean
  /** The database fills it in when it is left out: a default or auto-increment. */
  hasDefault: boolean
  autoIncrement: boolean
  primaryKey: boolean
}

/** A table's columns, in declaration order, and its primary key columns. */
export interface TableInfo {
  name: string
  dialect: DatabaseDialect
  columns: ColumnInfo[]
  /** Lookup by name: the one place a name from a request is checked before it reaches SQL. */
  column(name: string): ColumnInfo | undefined
  primaryKey: string[]
}

/**
 * Read a table's columns from the live database: name, type, nullability, default or
 * auto-increment, primary key. Kysely's introspector gives all but the primary key, which
 * comes from `pragma_table_info` (SQLite), `information_schema` key usage (PostgreSQL,
 * for `table` or `schema.table`) or `COLUMN_KEY` (MariaDB). Throws `ERR_NO_TABLE` when the
 * table does not exist.
 *
 * @example
 * const info = await tableInfo(db, 'notes')
 * info.primaryKey            // ['id']
 * info.column('title')?.kind // 'text'
 */
export async function tableInfo(db: Database<any>, table: string): Promise<TableInfo> {
  const k = db.kysely as Kysely<any>
  const dot = table.indexOf('.')
  const schema = dot < 0 ? undefined : table.slice(0, dot)
  const name = dot < 0 ? table : table.slice(dot + 1)
  const tables = await k.introspection.getTables()
  // PostgreSQL finds an unqualified name in the first schema of the search path that has it.
  const path = schema !== undefined ? [schema] : db.dialect === 'postgres' ? await searchPath(k) : undefined
  const meta = path === undefined
    ? tables.find((t) => t.name === name)
    : path.map((s) => tables.find((t) => t.name === name && t.schema === s)).find((t) => t !== undefined)
  if (meta === undefined) throw new CarafeError('ERR_NO_TABLE', `table ${JSON.stringify(table)} does not exist in the database ${db.dialect === 'sqlite' ? db.file() : ''}${path !== undefined && schema === undefined ? `(search path: ${path.join(', ')})` : ''}; create it in a migration first`)
  const { pk, types } = await extras(db, k, name, meta.schema ?? 'public')
  const columns: ColumnInfo[] = meta.columns.map((c) => {
    const dataType = (types.get(c.name) ?? c.dataType).toLowerCase()
    return {
      name: c.name,
      dataType,
      kind: kindOf(dataType),
      nullable: c.isNullable,
      hasDefault: c.hasDefaultValue || c.isAutoIncrementing,
      autoIncrement: c.isAutoIncrementing,
      primaryKey: pk.includes(c.name),
    }
  })
  const byName = new Map(columns.map((c) => [c.name, c]))
  return { name: table, dialect: db.dialect, columns, column: (n) => byName.get(n), primaryKey: pk }
}

/** The schemas PostgreSQL searches for unqualified names, in order (`current_schemas(false)`). */
async function searchPath(k: Kysely<any>): Promise<string[]> {
  const { sql } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
  const r = await sql<{ path: string[] | string }>`select current_schemas(false) as path`.execute(k)
  const raw = r.rows[0]?.path ?? []
  // pg returns name[] as a JS array, or as its text form ("{a,b}") for types it does not parse.
  return Array.isArray(raw) ? raw : raw.replace(/^\{|\}$/g, '').split(',').filter((x) => x !== '')
}

/** What Kysely's introspector lacks: the primary key, and MariaDB's full column type (`tinyint(1)` is a boolean). */
async function extras(db: Database<any>, k: Kysely<any>, table: string, schema: string): Promise<{ pk: string[]; types: Map<string, string> }> {
  const { sql } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
  const types = new Map<string, string>()
  if (db.dialect === 'sqlite') {
    const r = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table})`.execute(k)
    return { pk: r.rows.filter((x) => x.pk > 0).sort((a, b) => a.pk - b.pk).map((x) => x.name), types }
  }
  if (db.dialect === 'postgres') {
    const r = await sql<{ column_name: string }>`
      select kcu.column_name from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu
        on tc.constraint_name = kcu.constraint_name and tc.table_schema = kcu.table_schema and tc.table_name = kcu.table_name
      where tc.constraint_type = 'PRIMARY KEY' and tc.table_name = ${table} and tc.table_schema = ${schema}
      order by kcu.ordinal_position`.execute(k)
    return { pk: r.rows.map((x) => x.column_name), types }
  }
  const r = await sql<{ COLUMN_NAME: string; COLUMN_KEY: string; COLUMN_TYPE: string }>`
    select COLUMN_NAME, COLUMN_KEY, COLUMN_TYPE from information_schema.columns
    where table_schema = database() and table_name = ${table} order by ORDINAL_POSITION`.execute(k)
  for (const x of r.rows) types.set(x.COLUMN_NAME, String(x.COLUMN_TYPE))
  return { pk: r.rows.filter((x) => x.COLUMN_KEY === 'PRI').map((x) => x.COLUMN_NAME), types }
}

/** A column type name (any engine's) as a {@link ColumnKind}, by SQLite's affinity rules extended to the others' names. */
export function kindOf(dataType: string): ColumnKind {
  const t = dataType.toLowerCase()
  if (/^(tinyint\(1\)|bool|boolean)(?![a-z0-9_])/.test(t)) return 'boolean'
  if (/^(timestamp|datetime)/.test(t)) return 'datetime'
  if (/^date\b/.test(t)) return 'date'
  if (/^time\b/.test(t) || t === 'timetz') return 'time'
  if (/^json/.test(t)) return 'json'
  if (/^(bytea|blob|binary|varbinary|longblob|mediumblob|tinyblob)/.test(t)) return 'binary'
  if (/int|serial/.test(t)) return 'integer'
  if (/^(real|float|double|numeric|decimal|money)/.test(t)) return 'number'
  if (/char|text|clob|uuid|citext|enum|set\b/.test(t) || t === '') return 'text'
  return 'other'
}

const TRUE_WORDS = new Set(['on', 'true', '1', 'yes'])
const FALSE_WORDS = new Set(['off', 'false', '0', 'no', ''])

/**
 * A form string as the value its column takes, before the schema sees it: integers and
 * numbers parsed (`'12'` → 12; text that is not a number stays text, for the schema to
 * refuse), checkboxes to booleans (a missing checkbox is `false`, as browsers send nothing
 * for an unchecked one), and an empty field of a nullable non-text column to `null`. Text,
 * dates and times stay strings.
 *
 * @example
 * coerceFormValue(info.column('votes')!, '12') // 12
 */
export function coerceFormValue(column: ColumnInfo, value: string | undefined): unknown {
  if (column.kind === 'boolean') {
    if (value === undefined) return false
    const v = value.trim().toLowerCase()
    return TRUE_WORDS.has(v) ? true : FALSE_WORDS.has(v) ? false : value
  }
  if (value === undefined) return undefined
  if (value === '' && column.kind !== 'text') return column.nullable ? null : undefined
  switch (column.kind) {
    case 'integer': {
      if (!/^[+-]?\d{1,16}$/.test(value.trim())) return value
      const n = Number(value)
      return Number.isSafeInteger(n) ? n : value
    }
    case 'number': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return value
      const n = Number(value)
      return Number.isFinite(n) ? n : value
    }
    default:
      return value
  }
}

/**
 * A value on its way into a column, in a shape the driver binds: better-sqlite3 binds no
 * booleans, dates or objects (they become 1/0, ISO text, JSON text); mysql2 no plain
 * objects (JSON text). PostgreSQL's driver takes them as they are.
 */
export function toDbValue(dialect: DatabaseDialect, column: ColumnInfo, value: unknown): unknown {
  if (value === undefined || value === null) return value
  if (dialect === 'postgres') return column.kind === 'json' && typeof value !== 'string' ? JSON.stringify(value) : value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return dialect === 'sqlite' ? value.toISOString() : value
  if (typeof value === 'object' && !(value instanceof Uint8Array)) return JSON.stringify(value)
  return value
}
