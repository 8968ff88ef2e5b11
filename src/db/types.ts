import type { ColumnMetadata, Kysely, TableMetadata } from 'kysely'
import { requirePeer } from '../util/peer.js'
import type { DatabaseDialect } from './database.js'

/** Options for {@link generateTypes}. */
export interface GenerateTypesOptions {
  /** Tables to leave out (the migration tables, say). @default [] */
  exclude?: string[]
}

/**
 * The TypeScript for `interface DB { … }` from the live schema (Kysely's introspection): one
 * interface per table, column types as this dialect's driver returns them, `| null` for
 * nullable columns and `Generated<…>` for the other columns with a default or an auto-increment.
 * What `carafe db types` prints.
 */
export async function generateTypes(db: Kysely<any>, dialect: DatabaseDialect, options: GenerateTypesOptions = {}): Promise<string> {
  const exclude = new Set(options.exclude ?? [])
  const tables = (await db.introspection.getTables()).filter((t) => !t.isView && !exclude.has(t.name)).sort((a, b) => tableKey(a, dialect).localeCompare(tableKey(b, dialect)))
  const rowids = dialect === 'sqlite' ? await sqliteRowids(db, tables) : new Set<string>()
  const used = new Set(['DB', 'Generated', 'ColumnType'])
  const imports = new Set<string>()
  const blocks: string[] = []
  const entries: string[] = []
  for (const table of tables) {
    const name = interfaceName(tableKey(table, dialect), used)
    const lines = table.columns.map((col) => {
      let type = columnType(col, dialect)
      if (type.startsWith('ColumnType<')) imports.add('ColumnType')
      // A rowid alias reads as nullable to SQLite's introspection, yet is never null.
      const rowid = rowids.has(`${table.name}.${col.name}`)
      const nullable = col.isNullable && !rowid
      // Generated<> only where it changes something: Kysely already lets an insert leave out a
      // nullable column (and MariaDB reports every nullable column as having a default, NULL).
      if (!nullable && (col.hasDefaultValue || col.isAutoIncrementing || rowid)) {
        type = `Generated<${type}>`
        imports.add('Generated')
      }
      if (nullable) type = `${type} | null`
      return `  ${property(col.name)}: ${type}`
    })
    blocks.push(`export interface ${name} {\n${lines.join('\n')}\n}\n`)
    entries.push(`  ${property(tableKey(table, dialect))}: ${name}`)
  }
  const head = '// Written by `carafe db types` from the live schema: run it again after migrating, do not edit.\n'
  const importLine = imports.size > 0 ? `import type { ${[...imports].sort().join(', ')} } from 'kysely'\n\n` : ''
  return `${head}${importLine}${blocks.join('\n')}${blocks.length > 0 ? '\n' : ''}export interface DB {\n${entries.join('\n')}${entries.length > 0 ? '\n' : ''}}\n`
}

/** A table's key in `DB`: its name, with the schema in front outside PostgreSQL's `public`. */
function tableKey(t: TableMetadata, dialect: DatabaseDialect): string {
  return dialect === 'postgres' && t.schema !== undefined && t.schema !== 'public' ? `${t.schema}.${t.name}` : t.name
}

/** SQLite: `INTEGER PRIMARY KEY` columns alias the rowid, so they fill themselves in without AUTOINCREMENT. */
async function sqliteRowids(db: Kysely<any>, tables: TableMetadata[]): Promise<Set<string>> {
  const { sql } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe db types')
  const out = new Set<string>()
  for (const t of tables) {
    const { rows } = await sql<{ name: string; type: string; pk: number }>`select name, type, pk from pragma_table_info(${t.name})`.execute(db)
    const pk = rows.filter((r) => r.pk > 0)
    if (pk.length === 1 && pk[0]!.type.toUpperCase() === 'INTEGER') out.add(`${t.name}.${pk[0]!.name}`)
  }
  return out
}

const DATE = 'ColumnType<Date, Date | string, Date | string>'
const BIG = 'ColumnType<string, string | number | bigint, string | number | bigint>'
const DECIMAL = 'ColumnType<string, string | number, string | number>'

/** PostgreSQL types as pg returns them by default (int8 and numeric as strings, dates as Date). */
const POSTGRES: Record<string, string> = {
  int2: 'number', int4: 'number', float4: 'number', float8: 'number', oid: 'number',
  int8: BIG, numeric: DECIMAL, money: 'string',
  bool: 'boolean',
  text: 'string', varchar: 'string', bpchar: 'string', char: 'string', name: 'string', citext: 'string', uuid: 'string',
  time: 'string', timetz: 'string', inet: 'string', cidr: 'string', macaddr: 'string', bit: 'string', varbit: 'string', xml: 'string',
  date: DATE, timestamp: DATE, timestamptz: DATE,
  json: 'unknown', jsonb: 'unknown', interval: 'unknown',
  bytea: 'Buffer',
}

/** MariaDB/MySQL types as mysql2 returns them by default (DECIMAL as a string, dates as Date). */
const MYSQL: Record<string, string> = {
  tinyint: 'number', smallint: 'number', mediumint: 'number', int: 'number', integer: 'number', bigint: 'number', year: 'number',
  float: 'number', double: 'number', real: 'number',
  decimal: DECIMAL, numeric: DECIMAL,
  char: 'string', varchar: 'string', tinytext: 'string', text: 'string', mediumtext: 'string', longtext: 'string', enum: 'string', set: 'string', time: 'string',
  date: DATE, datetime: DATE, timestamp: DATE,
  json: 'unknown',
  binary: 'Buffer', varbinary: 'Buffer', tinyblob: 'Buffer', blob: 'Buffer', mediumblob: 'Buffer', longblob: 'Buffer', bit: 'Buffer',
}

/** The TypeScript type of one column's values. */
export function columnType(col: Pick<ColumnMetadata, 'dataType'>, dialect: DatabaseDialect): string {
  const t = col.dataType.toLowerCase()
  if (dialect === 'postgres') {
    if (t.startsWith('_')) {
      const inner = columnType({ dataType: t.slice(1) }, dialect)
      return `${inner.includes(' ') || inner.includes('<') ? `Array<${inner}>` : `${inner}[]`}`
    }
    return POSTGRES[t] ?? 'string'
  }
  if (dialect === 'mysql') return MYSQL[t.replace(/\(.*$/, '').replace(/ unsigned$/, '')] ?? 'string'
  return sqliteType(t)
}

/** SQLite's type affinity rules (https://www.sqlite.org/datatype3.html §3.1), as better-sqlite3 returns values. */
function sqliteType(t: string): string {
  if (t.includes('int')) return 'number'
  if (t.includes('char') || t.includes('clob') || t.includes('text')) return 'string'
  if (t === '' || t.includes('blob')) return 'Buffer'
  if (t.includes('real') || t.includes('floa') || t.includes('doub')) return 'number'
  // NUMERIC affinity: BOOLEAN and DECIMAL come back as numbers; dates are stored as text.
  if (t.includes('date') || t.includes('time')) return 'string'
  return 'number'
}

/** `notes` → `Notes`, `blog_posts` → `BlogPosts`, `app.users` → `AppUsers`, kept unique. */
function interfaceName(table: string, used: Set<string>): string {
  let base = table.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Table'
  if (/^\d/.test(base)) base = `T${base}`
  let name = base
  for (let i = 2; used.has(name); i++) name = `${base}${i}`
  used.add(name)
  return name
}

function property(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name)
}
