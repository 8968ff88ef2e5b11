// Shared by the database scenarios: which engine (BENCH_SCENARIO db-*-sqlite or db-*-pg),
// a table of 100 notes of this process's own (made at start, dropped at exit), the two
// queries every server runs, and the HTML template for the list.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ENGINE = (process.env.BENCH_SCENARIO ?? '').endsWith('-pg') ? 'pg' : 'sqlite'
export const TABLE = `bench_notes_${process.pid}`
const dir = ENGINE === 'sqlite' ? mkdtempSync(join(tmpdir(), 'carafe-bench-db-')) : null
export const DB_URL = ENGINE === 'pg' ? (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test') : `sqlite:${join(dir, 'bench.db')}`
export const SQLITE_FILE = dir === null ? null : join(dir, 'bench.db')
export const TEMPLATES = new URL('./templates', import.meta.url).pathname
export const LIST_TEMPLATE = 'notes.html'

/** The row by primary key, as every server asks for it. */
export const getRow = (db, id) => db.selectFrom(TABLE).select(['id', 'title', 'body', 'created_at']).where('id', '=', id).executeTakeFirst()
/** Twenty rows, newest first. */
export const listRows = (db) => db.selectFrom(TABLE).select(['id', 'title', 'created_at']).orderBy('id', 'desc').limit(20).execute()

/** Make and fill the table. */
export async function setup(db, sql) {
  await sql.raw(`create table ${TABLE} (id integer primary key, title varchar(200) not null, body text not null, created_at varchar(40) not null)`).execute(db)
  const rows = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, title: `Note number ${i + 1} <with> & "chars"`, body: 'Lorem ipsum dolor sit amet. '.repeat(4), created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }))
  await db.insertInto(TABLE).values(rows).execute()
}

/** Drop the table (and the SQLite folder) when the server is stopped. */
export function cleanupOnExit(db, sql) {
  const clean = async () => {
    try { await sql.raw(`drop table if exists ${TABLE}`).execute(db) } catch {}
    try { await db.destroy() } catch {}
    if (dir !== null) rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
  process.once('SIGTERM', clean)
  process.once('SIGINT', clean)
}

/** A bare Kysely on the root package's drivers, as the peers and the raw server use it (the same dialect Carafe wraps). */
export async function bareKysely() {
  const { createRequire } = await import('node:module')
  const require = createRequire(new URL('../../package.json', import.meta.url))
  const { Kysely, SqliteDialect, PostgresDialect, sql } = require('kysely')
  let dialect
  if (ENGINE === 'pg') {
    const pg = require('pg')
    dialect = new PostgresDialect({ pool: new pg.Pool({ connectionString: DB_URL, max: 10 }) })
  } else {
    const Database = require('better-sqlite3')
    dialect = new SqliteDialect({ database: async () => { const d = new Database(SQLITE_FILE); d.pragma('journal_mode = WAL'); return d } })
  }
  return { db: new Kysely({ dialect }), sql }
}
