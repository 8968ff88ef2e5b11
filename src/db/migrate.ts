import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Kysely, Migration, MigrationResultSet, Migrator as KyselyMigrator } from 'kysely'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import type { Database } from './database.js'

/** Options for {@link migrate}, {@link rollback} and {@link migrationStatus}. */
export interface MigrateOptions {
  /** The migrations folder (absolute). */
  dir: string
  /** The table that records applied migrations (Kysely's format). @default 'kysely_migration' */
  table?: string
  /** Kysely's lock table. @default 'kysely_migration_lock', or `<table>_lock` when `table` is given */
  lockTable?: string
  /** PostgreSQL: the schema of both tables. @default the connection's search path */
  schema?: string
  /** SQLite and MariaDB: how long to wait for another process's migration run, in ms. @default 60000 */
  lockTimeout?: number
}

/** One migration file and whether it has been applied. */
export interface MigrationState {
  name: string
  /** When it was applied; `undefined` while it is pending. */
  appliedAt: Date | undefined
}

const MIGRATION_FILE = /\.(ts|mts|js|mjs)$/

/** The migration files of `dir` (`<timestamp>_<name>.ts` or `.js`), in name order; `[]` when there is no such folder. */
export async function migrationFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts')).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}

/**
 * The migration files of `dir`, by name (the file name without its extension), in name
 * order. `.ts` files load through the same TypeScript hooks as `carafe run`.
 */
export async function loadMigrations(dir: string): Promise<Record<string, Migration>> {
  const files = await migrationFiles(dir)
  if (files.some((f) => /\.m?ts$/.test(f))) {
    const { registerTypeScript } = await import('../cli/ts-register.js')
    await registerTypeScript()
  }
  const out: Record<string, Migration> = {}
  for (const file of files) {
    let mod: Partial<Migration>
    try {
      mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Partial<Migration>
    } catch (e) {
      throw new CarafeError('ERR_MIGRATION', `migration ${path.join(dir, file)} could not be loaded: ${(e as Error).message ?? String(e)}`)
    }
    if (typeof mod.up !== 'function') throw new CarafeError('ERR_MIGRATION', `migration ${path.join(dir, file)} exports no up(db) function`)
    const name = file.replace(MIGRATION_FILE, '')
    if (out[name] !== undefined) throw new CarafeError('ERR_MIGRATION', `two migration files are named ${name} in ${dir}; keep one`)
    out[name] = { up: mod.up, down: mod.down }
  }
  return out
}

/**
 * Run the pending migrations of `dir` (or up, or back down, to `to`), one run at a time even
 * when several processes start together; throws naming the one that failed and why.
 *
 * The lock and what a failure keeps, by engine:
 * - PostgreSQL: Kysely's advisory lock; the run is one transaction, so a failure keeps nothing.
 * - SQLite: the run is one `BEGIN IMMEDIATE` transaction (Kysely takes no lock there), which
 *   is also the lock: a second process waits for it, then finds nothing pending. A failure
 *   keeps nothing.
 * - MariaDB: a named lock (`GET_LOCK`) for this database and migration table, taken before
 *   Kysely's own; DDL commits as it runs, so the migrations
 *   before the failing one stay applied, and so does whatever DDL the failing one ran.
 *
 * @example
 * await migrate(db, { dir: path.resolve(app.root, 'migrations') })
 */
export async function migrate<DB>(db: Database<DB>, options: MigrateOptions & { to?: string }): Promise<MigrationResultSet> {
  return run(db, options, async (migrator) => {
    if (options.to === undefined) return migrator.migrateToLatest()
    const known = (await migrator.getMigrations()).map((m) => m.name)
    if (!known.includes(options.to)) throw new CarafeError('ERR_MIGRATION', `no migration named ${options.to} in ${options.dir}${known.length > 0 ? ` (there are: ${known.join(', ')})` : ''}`)
    return migrator.migrateTo(options.to)
  })
}

/** Undo the last `steps` applied migrations (their `down(db)`), newest first, under the same lock as {@link migrate}. */
export async function rollback<DB>(db: Database<DB>, options: MigrateOptions & { steps?: number }): Promise<MigrationResultSet> {
  const steps = options.steps ?? 1
  if (!Number.isInteger(steps) || steps < 1) throw new CarafeError('ERR_MIGRATION', `rollback: steps must be a whole number of at least 1 (got ${steps})`)
  const { NO_MIGRATIONS } = kysely()
  return run(db, options, async (migrator) => {
    const applied = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined)
    if (applied.length === 0) return { results: [] }
    for (const m of applied.slice(-steps)) {
      if (m.migration.down === undefined) throw new CarafeError('ERR_MIGRATION', `migration ${m.name} has no down(db) function, so it cannot be rolled back`)
    }
    return migrator.migrateTo(steps >= applied.length ? NO_MIGRATIONS : applied[applied.length - steps - 1]!.name)
  })
}

/** Every migration file of `dir`, applied (with when) or pending, in name order. */
export async function migrationStatus<DB>(db: Database<DB>, options: MigrateOptions): Promise<MigrationState[]> {
  const migrator = makeMigrator(db.kysely, await loadMigrations(options.dir), options)
  return (await migrator.getMigrations()).map((m) => ({ name: m.name, appliedAt: m.executedAt }))
}

function kysely(): typeof import('kysely') {
  return requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
}

function makeMigrator(db: Kysely<any>, migrations: Record<string, Migration>, options: MigrateOptions): KyselyMigrator {
  const { Migrator } = kysely()
  const table = options.table ?? 'kysely_migration'
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: table,
    migrationLockTableName: options.lockTable ?? (options.table === undefined ? 'kysely_migration_lock' : `${table}_lock`),
    ...(options.schema === undefined ? {} : { migrationTableSchema: options.schema }),
  })
}

/** Run `step` on a Migrator under the engine's lock and turn a failed result into an error. */
async function run<DB>(db: Database<DB>, options: MigrateOptions, step: (m: KyselyMigrator) => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  const migrations = await loadMigrations(options.dir)
  const files = await migrationFiles(options.dir)
  const timeout = options.lockTimeout ?? 60_000
  const result = db.dialect === 'sqlite'
    ? await inImmediateTransaction(db.kysely, timeout, (conn) => step(makeMigrator(conn, migrations, options)))
    : db.dialect === 'mysql'
      ? await withNamedLock(db.kysely, options.table ?? 'kysely_migration', timeout, (conn) => step(makeMigrator(conn, migrations, options)))
      : await step(makeMigrator(db.kysely, migrations, options))
  if (result.error !== undefined) throw failure(db, options, files, result)
  return result
}

/**
 * Run `fn` on one SQLite connection inside `BEGIN IMMEDIATE`: the write lock is taken before
 * anything is read, so a second process's run waits here and then sees the first one's work.
 * Committed when `fn` succeeds (and its result has no error), rolled back otherwise.
 */
async function inImmediateTransaction(db: Kysely<any>, timeout: number, fn: (conn: Kysely<any>) => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  const { sql } = kysely()
  return db.connection().execute(async (conn) => {
    const deadline = Date.now() + timeout
    for (;;) {
      try {
        await sql`begin immediate`.execute(conn)
        break
      } catch (e) {
        // Each attempt already waited the connection's busy timeout.
        if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) {
          throw new CarafeError('ERR_MIGRATION_LOCK', `could not take the SQLite write lock to migrate (${(e as Error).message}); another process has held it for over ${timeout} ms`)
        }
      }
    }
    let result: MigrationResultSet
    try {
      result = await fn(conn)
    } catch (e) {
      await sql`rollback`.execute(conn)
      throw e
    }
    await sql.raw(result.error === undefined ? 'commit' : 'rollback').execute(conn)
    return result
  })
}

/**
 * Run `fn` on one MariaDB/MySQL connection holding a named lock for this database and
 * migration table. Kysely takes a lock of its own too, but under one name for every database
 * on the server and without looking at the answer: after an hour's wait it goes on unlocked.
 * This one fails instead. The server releases it if the process dies.
 */
async function withNamedLock(db: Kysely<any>, table: string, timeout: number, fn: (conn: Kysely<any>) => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  const { sql } = kysely()
  return db.connection().execute(async (conn) => {
    const name = sql`concat('carafe_migrate:', sha1(concat(database(), '.', ${table})))`
    const { rows } = await sql<{ ok: number | null }>`select get_lock(${name}, ${Math.ceil(timeout / 1000)}) as ok`.execute(conn)
    if (Number(rows[0]?.ok) !== 1) throw new CarafeError('ERR_MIGRATION_LOCK', `could not take the migration lock: another process has been migrating this database for over ${timeout} ms`)
    try {
      return await fn(conn)
    } finally {
      await sql`select release_lock(${name})`.execute(conn)
    }
  })
}

function failure<DB>(db: Database<DB>, options: MigrateOptions, files: string[], result: MigrationResultSet): CarafeError {
  const e = result.error
  if (e instanceof CarafeError) return e
  const why = (e as Error)?.message ?? String(e)
  const failed = result.results?.find((r) => r.status === 'Error')
  if (failed === undefined) return new CarafeError('ERR_MIGRATION', `migrations in ${options.dir} could not run: ${why}`)
  const kept = db.dialect === 'mysql'
    ? 'MariaDB/MySQL commits DDL as it runs: the migrations before it stay applied, and so does any DDL it ran before failing'
    : `the run was one transaction, so nothing from it was kept`
  const file = files.find((f) => f.replace(MIGRATION_FILE, '') === failed.migrationName) ?? failed.migrationName
  const verb = failed.direction === 'Up' ? 'failed' : 'failed to roll back'
  const err = new CarafeError('ERR_MIGRATION', `migration ${failed.migrationName} (${path.join(options.dir, file)}) ${verb}: ${why} (${kept})`)
  err.cause = e
  return err
}
