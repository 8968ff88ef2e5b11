import type { DatabaseDialect } from '../db/database.js'

const ANY_NOTE = `// Kysely<any>: a migration runs against the schema as it was when the migration was written,
// not against today's interface DB, so it is deliberately not typed by it.
`

/** How each dialect spells an integer primary key that numbers itself. */
const ID: Record<DatabaseDialect, string> = {
  sqlite: `.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())`,
  postgres: `.addColumn('id', 'integer', (col) => col.primaryKey().generatedByDefaultAsIdentity())`,
  mysql: `.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())`,
}

/**
 * The text of a new migration `name` for `dialect`: a `createTable` for a name
 * `create_<table>`, else an empty `up` and `down` with an example in comments.
 */
export function migrationTemplate(name: string, dialect: DatabaseDialect): string {
  const table = /^create_(\w+)$/.exec(name)?.[1]
  if (table !== undefined) {
    return `import { sql, type Kysely } from 'kysely'

${ANY_NOTE}export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('${table}')
    ${ID[dialect]}
    .addColumn('created_at', 'timestamp', (col) => col.notNull().defaultTo(sql\`CURRENT_TIMESTAMP\`))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('${table}').execute()
}
`
  }
  return `import type { Kysely } from 'kysely'

${ANY_NOTE}export async function up(db: Kysely<any>): Promise<void> {
  // await db.schema.alterTable('notes').addColumn('title', 'text', (col) => col.notNull().defaultTo('')).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  // Undo up(): await db.schema.alterTable('notes').dropColumn('title').execute()
}
`
}
