/**
 * `carafe/db`: typed SQL on Kysely, with an embedded SQLite default and PostgreSQL or
 * MariaDB by URL.
 *
 * @example
 * import { database, sql } from 'carafe/db'
 * const db = database<DB>(process.env.DATABASE_URL ?? 'sqlite:data/app.db')
 * app.use(db.middleware())
 */
import type { sql as SqlTag } from 'kysely'
import type { DatabaseDialect } from './database.js'
import { requirePeer } from '../util/peer.js'

export { database, Database, parseDatabaseUrl } from './database.js'
export type { DatabaseDialect, DatabaseOptions, ParsedDatabaseUrl } from './database.js'
export { mapDbError, dbErrorKind } from './errors.js'
export { migrate, rollback, migrationStatus, loadMigrations, migrationFiles } from './migrate.js'
export type { MigrateOptions, MigrationState } from './migrate.js'
export { tableInfo, kindOf, coerceFormValue, toDbValue } from './introspect.js'
export type { TableInfo, ColumnInfo, ColumnKind } from './introspect.js'

/** Kysely's `sql` tag for plain SQL with bound parameters: `` sql`select * from notes where id = ${id}`.execute(c.db) ``. */
export const sql: typeof SqlTag = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db').sql

/**
 * Which engine a Kysely instance (a migration's `db`, `c.db`) talks to, for the few places
 * where SQL differs, such as auto-numbered ids in a migration:
 *
 * @example
 * const pg = dialectOf(db) === 'postgres'
 * db.schema.createTable('notes').addColumn('id', pg ? 'serial' : 'integer', (c) => pg ? c.primaryKey() : c.primaryKey().autoIncrement())
 */
export function dialectOf(db: { getExecutor(): { readonly adapter: object } }): DatabaseDialect {
  // By the adapter Carafe's own Kysely made: an `instanceof` against the classes a migration
  // imports could compare two copies of Kysely (its ESM and CommonJS builds).
  const k = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
  const adapter = db.getExecutor().adapter
  if (adapter instanceof k.PostgresAdapter) return 'postgres'
  if (adapter instanceof k.MysqlAdapter) return 'mysql'
  if (adapter instanceof k.SqliteAdapter) return 'sqlite'
  const name = adapter.constructor.name
  if (/postgres/i.test(name)) return 'postgres'
  if (/mysql/i.test(name)) return 'mysql'
  return 'sqlite'
}
