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
