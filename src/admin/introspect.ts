import type { Kysely } from 'kysely'
import { sql } from '../db/index.js'
import type { DatabaseDialect } from '../db/database.js'

/**
 * The admin's own small introspection (the `crud()` helper's `src/db/introspect.ts` had not
 * landed when the admin was written): columns from Kysely's portable `getTables()`, the
 * primary key and foreign keys from one query per dialect, as `getTables()` gives neither.
 */

/** What the admin knows of a column. */
export interface ColumnInfo {
  readonly name: string
  /** The type as the engine reports it, lower case (`integer`, `varchar(80)`, `int4`, `bool`, `timestamptz`). */
  readonly dataType: string
  readonly nullable: boolean
  readonly hasDefault: boolean
  /** The database makes the value (an `integer primary key` in SQLite, `serial`, `auto_increment`). */
  readonly generated: boolean
  /** The referenced table and column when this column is a foreign key. */
  readonly references?: { readonly table: string; readonly column: string }
}

/** A table as the admin sees it. */
export interface TableInfo {
  readonly name: string
  readonly columns: readonly ColumnInfo[]
  /** The primary key's columns, in key order (empty when the table has none). */
  readonly primaryKey: readonly string[]
}

// Kysely<any>: table and column names here come from the admin's checked config at run time,
// so no static DB type can describe them; this type never leaves src/admin/.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDB = any
export type DynamicDb = Kysely<AnyDB>

interface KeyRow { table_name: string; column_name: string; ordinal: number | string; ref_table: string | null; ref_column: string | null; kind: string }

/** Introspect `names` (tables that do not exist are left out of the map). */
export async function introspect(db: DynamicDb, dialect: DatabaseDialect, names: readonly string[]): Promise<Map<string, TableInfo>> {
  const wanted = new Set(names)
  const tables = (await db.introspection.getTables()).filter((t) => wanted.has(t.name) && !t.isView)
  const out = new Map<string, TableInfo>()
  for (const t of tables) {
    if (out.has(t.name) && dialect === 'postgres' && t.schema !== 'public') continue
    const keys = await keysOf(db, dialect, t.name)
    // MySQL's BOOLEAN is tinyint(1), which getTables() reports as plain "tinyint".
    const flags = dialect === 'mysql' ? await mysqlBooleans(db, t.name) : new Set<string>()
    const pk = keys.filter((k) => k.kind === 'p').sort((a, b) => Number(a.ordinal) - Number(b.ordinal)).map((k) => k.column_name)
    const fks = new Map(keys.filter((k) => k.kind === 'f' && k.ref_table !== null).map((k) => [k.column_name, { table: k.ref_table!, column: k.ref_column! }]))
    const columns = t.columns.map((c): ColumnInfo => {
      const dataType = flags.has(c.name) ? 'tinyint(1)' : c.dataType.toLowerCase()
      // SQLite: an INTEGER PRIMARY KEY is the rowid, filled in when left out.
      const rowid = dialect === 'sqlite' && pk.length === 1 && pk[0] === c.name && dataType === 'integer'
      const ref = fks.get(c.name)
      return { name: c.name, dataType, nullable: c.isNullable, hasDefault: c.hasDefaultValue || rowid, generated: c.isAutoIncrementing || rowid, ...(ref === undefined ? {} : { references: ref }) }
    })
    out.set(t.name, { name: t.name, columns, primaryKey: pk })
  }
  return out
}

async function keysOf(db: DynamicDb, dialect: DatabaseDialect, table: string): Promise<KeyRow[]> {
  if (dialect === 'sqlite') {
    const cols = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table})`.execute(db)
    const fks = await sql<{ from: string; table: string; to: string | null }>`select "from", "table", "to" from pragma_foreign_key_list(${table})`.execute(db)
    return [
      ...cols.rows.filter((r) => r.pk > 0).map((r) => ({ table_name: table, column_name: r.name, ordinal: r.pk, ref_table: null, ref_column: null, kind: 'p' })),
      // A foreign key naming no column refers to the other table's primary key; SQLite leaves "to" null then.
      ...fks.rows.map((r) => ({ table_name: table, column_name: r.from, ordinal: 0, ref_table: r.table, ref_column: r.to ?? 'id', kind: 'f' })),
    ]
  }
  if (dialect === 'postgres') {
    const r = await sql<KeyRow>`
      select a.attname as column_name, k.ord as ordinal, con.contype as kind,
             rt.relname as ref_table, ra.attname as ref_column, t.relname as table_name
      from pg_constraint con
      join pg_class t on t.oid = con.conrelid
      join pg_namespace n on n.oid = t.relnamespace
      cross join lateral unnest(con.conkey) with ordinality as k(attnum, ord)
      join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
      left join pg_class rt on rt.oid = con.confrelid
      left join pg_attribute ra on ra.attrelid = con.confrelid and ra.attnum = con.confkey[k.ord]
      where t.relname = ${table} and n.nspname = current_schema() and con.contype in ('p', 'f')`.execute(db)
    return r.rows
  }
  const r = await sql<KeyRow>`
    select column_name as column_name, ordinal_position as ordinal, referenced_table_name as ref_table, referenced_column_name as ref_column,
           case when constraint_name = 'PRIMARY' then 'p' else 'f' end as kind, table_name as table_name
    from information_schema.key_column_usage
    where table_schema = database() and table_name = ${table} and (constraint_name = 'PRIMARY' or referenced_table_name is not null)`.execute(db)
  return r.rows
}

async function mysqlBooleans(db: DynamicDb, table: string): Promise<Set<string>> {
  const r = await sql<{ name: string }>`
    select column_name as name from information_schema.columns
    where table_schema = database() and table_name = ${table} and column_type = 'tinyint(1)'`.execute(db)
  return new Set(r.rows.map((x) => x.name))
}
