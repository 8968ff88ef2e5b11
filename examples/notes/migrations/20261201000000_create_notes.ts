// The notes site's tables: users (for the admin login) and notes.
import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely'
import { dialectOf } from 'carafe/db'

export async function up(db: Kysely<unknown>): Promise<void> {
  // Auto-numbered ids: `serial` on PostgreSQL, AUTOINCREMENT on SQLite (and MySQL/MariaDB).
  const pg = dialectOf(db) === 'postgres'
  const id = pg ? 'serial' : 'integer'
  const key = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => pg ? c.primaryKey() : c.primaryKey().autoIncrement()
  await db.schema.createTable('users')
    .addColumn('id', id, key)
    .addColumn('email', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'varchar(200)', (c) => c.notNull())
    .addColumn('roles', 'varchar(200)', (c) => c.notNull().defaultTo('[]'))
    .execute()
  await db.schema.createTable('notes')
    .addColumn('id', id, key)
    .addColumn('title', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('body', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('author_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP`))
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notes').execute()
  await db.schema.dropTable('users').execute()
}
