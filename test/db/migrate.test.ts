import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { Carafe } from '../../src/index.js'
import { database, type Database } from '../../src/db/index.js'
import { loadMigrations, migrate, migrationStatus, rollback } from '../../src/db/migrate.js'
import { appDir } from '../helpers/spawn.js'
import { needService, SERVICES, uniqueName } from '../helpers/services.js'

/** Plain-JS migrations (the test process has no TypeScript hooks; the CLI tests cover .ts). */
const table = (name: string): string => `import { sql } from 'kysely'
export async function up(db) { await sql\`create table ${name} (id integer)\`.execute(db) }
export async function down(db) { await sql\`drop table ${name}\`.execute(db) }
`

async function migrations(files: Record<string, string>): Promise<string> {
  const dir = path.join(await appDir(), 'migrations')
  await mkdir(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text)
  return dir
}

async function tableNames(db: Database<any>): Promise<string[]> {
  return (await db.kysely.introspection.getTables()).map((t) => t.name).sort()
}

/** The same checks on each engine, with migration tables of their own. */
function conformance(kind: string, open: (t: TestContext) => Promise<Database<any> | undefined>): void {
  // Each test closes its database after dropping its tables (a query after close() reopens it).
  describe(`migrate() on ${kind}`, () => {
    it('applies, reports, migrates to a name (up and down) and rolls back by steps', async (t) => {
      const db = await open(t)
      if (db === undefined) return
      const [a, b, c] = [uniqueName('ta'), uniqueName('tb'), uniqueName('tc')]
      const dir = await migrations({ '001_a.mjs': table(a), '002_b.mjs': table(b), '003_c.mjs': table(c) })
      const mig = { dir, table: uniqueName('mig') }
      t.after(async () => {
        for (const x of [a, b, c, mig.table, `${mig.table}_lock`]) await db.kysely.schema.dropTable(x).ifExists().execute()
        await db.close()
      })
      assert.deepEqual((await migrationStatus(db, mig)).map((s) => [s.name, s.appliedAt]), [['001_a', undefined], ['002_b', undefined], ['003_c', undefined]])
      const first = await migrate(db, { ...mig, to: '002_b' })
      assert.deepEqual(first.results?.map((r) => [r.migrationName, r.direction, r.status]), [['001_a', 'Up', 'Success'], ['002_b', 'Up', 'Success']])
      const status = await migrationStatus(db, mig)
      assert.ok(status[0]!.appliedAt instanceof Date && Math.abs(status[0]!.appliedAt.getTime() - Date.now()) < 60_000)
      assert.equal(status[2]!.appliedAt, undefined)
      await migrate(db, mig)
      assert.ok((await tableNames(db)).includes(c))
      const down = await migrate(db, { ...mig, to: '001_a' })
      assert.deepEqual(down.results?.map((r) => [r.migrationName, r.direction]), [['003_c', 'Down'], ['002_b', 'Down']])
      assert.ok(!(await tableNames(db)).includes(b))
      await rollback(db, { ...mig, steps: 5 })
      assert.ok(!(await tableNames(db)).includes(a))
      await assert.rejects(rollback(db, { ...mig, steps: 0 }), /steps must be a whole number/)
    })

    it('a failing second migration names its file and why, and throws', async (t) => {
      const db = await open(t)
      if (db === undefined) return
      const a = uniqueName('ta')
      const dir = await migrations({ '001_a.mjs': table(a), '002_bad.mjs': 'export async function up(db) { throw new Error("the reason") }\n' })
      const mig = { dir, table: uniqueName('mig') }
      t.after(async () => {
        for (const x of [a, mig.table, `${mig.table}_lock`]) await db.kysely.schema.dropTable(x).ifExists().execute()
        await db.close()
      })
      await assert.rejects(migrate(db, mig), (e: Error) => {
        assert.match(e.message, new RegExp(`^migration 002_bad \\(${dir.replace(/[/.]/g, '\\$&')}/002_bad\\.mjs\\) failed: the reason`))
        return true
      })
      const applied = (await migrationStatus(db, mig)).filter((s) => s.appliedAt !== undefined).map((s) => s.name)
      // MariaDB commits DDL as it goes; PostgreSQL and SQLite run the batch as one transaction.
      assert.deepEqual(applied, kind === 'MariaDB' ? ['001_a'] : [])
      assert.equal((await tableNames(db)).includes(a), kind === 'MariaDB')
    })
  })
}

conformance('SQLite', async () => {
  return database(`sqlite:${path.join(await appDir(), 'app.db')}`)
})
conformance('PostgreSQL', async (t) => {
  if (!(await needService(t, 'postgres'))) return undefined
  return database(SERVICES.postgres.url)
})
conformance('MariaDB', async (t) => {
  if (!(await needService(t, 'mariadb'))) return undefined
  return database(SERVICES.mariadb.url)
})

describe('loadMigrations()', () => {
  it('names the file that exports no up(db) or fails to load', async () => {
    const noUp = await migrations({ '001_x.mjs': 'export const down = () => {}\n' })
    await assert.rejects(loadMigrations(noUp), /migration .*001_x\.mjs exports no up\(db\) function/)
    const broken = await migrations({ '001_y.mjs': 'import "./nowhere.mjs"\nexport async function up() {}\n' })
    await assert.rejects(loadMigrations(broken), /migration .*001_y\.mjs could not be loaded: /)
    assert.deepEqual(await loadMigrations(path.join(noUp, 'missing')), {})
  })
})

describe('migrate() on SQLite: the write lock', () => {
  it('waits while another process holds the write lock, then fails saying so, running nothing', async (t) => {
    const file = path.join(await appDir(), 'app.db')
    const db = database(`sqlite:${file}`, { busyTimeout: 100 })
    const holder = new Sqlite(file)
    t.after(async () => {
      holder.close()
      await db.close()
    })
    holder.pragma('journal_mode = WAL')
    holder.exec('begin immediate')
    const dir = await migrations({ '001_a.mjs': table('a') })
    const started = Date.now()
    await assert.rejects(migrate(db, { dir, lockTimeout: 400 }), /could not take the SQLite write lock to migrate .*another process has held it for over 400 ms/)
    assert.ok(Date.now() - started >= 400)
    holder.exec('rollback')
    await migrate(db, { dir })
    assert.deepEqual(await tableNames(db), ['a'])
  })
})

describe('rollback()', () => {
  it('refuses, changing nothing, when a migration to undo has no down(db)', async (t) => {
    const db = database(`sqlite:${path.join(await appDir(), 'app.db')}`)
    t.after(() => db.close())
    const dir = await migrations({ '001_a.mjs': table('a'), '002_b.mjs': 'export async function up() {}\n' })
    await migrate(db, { dir })
    await assert.rejects(rollback(db, { dir, steps: 2 }), /migration 002_b has no down\(db\) function, so it cannot be rolled back/)
    assert.deepEqual((await migrationStatus(db, { dir })).map((s) => s.appliedAt !== undefined), [true, true])
  })
})

describe('database(url, { migrate: true })', () => {
  it('runs pending migrations at startup from migrationsDir relative to the app root', async (t) => {
    const root = await appDir()
    await mkdir(path.join(root, 'db/migrations'), { recursive: true })
    await writeFile(path.join(root, 'db/migrations/001_notes.mjs'), table('notes'))
    const db = database('sqlite:data/app.db', { migrate: true, migrationsDir: 'db/migrations' })
    const app = new Carafe({ root })
    app.use(db.middleware())
    await app.startup()
    t.after(() => db.close())
    assert.equal(db.file(), path.join(root, 'data/app.db'))
    assert.deepEqual(await tableNames(db), ['notes'])
    assert.ok((await migrationStatus(db, { dir: path.join(root, 'db/migrations') }))[0]!.appliedAt instanceof Date)
  })
})

describe('migrate() on MariaDB: the named lock', () => {
  it('waits for another holder of the lock, then fails saying so, running nothing', async (t) => {
    if (!(await needService(t, 'mariadb'))) return
    const mysql = (await import('mysql2/promise')).default
    const holder = await mysql.createConnection({ uri: SERVICES.mariadb.url })
    const db = database(SERVICES.mariadb.url)
    const a = uniqueName('ta')
    const mig = { dir: await migrations({ '001_a.mjs': table(a) }), table: uniqueName('mig'), lockTimeout: 1000 }
    t.after(async () => {
      for (const x of [a, mig.table, `${mig.table}_lock`]) await db.kysely.schema.dropTable(x).ifExists().execute()
      await db.close()
      await holder.end()
    })
    const [[got]] = await holder.query(`select get_lock(concat('carafe_migrate:', sha1(concat(database(), '.', ?))), 0) as ok`, [mig.table]) as unknown as [[{ ok: number }]]
    assert.equal(got.ok, 1)
    const started = Date.now()
    await assert.rejects(migrate(db, mig), /could not take the migration lock: another process has been migrating this database for over 1000 ms/)
    assert.ok(Date.now() - started >= 900)
    assert.ok(!(await tableNames(db)).includes(a))
    await holder.query('select release_all_locks()')
    await migrate(db, mig)
    assert.ok((await tableNames(db)).includes(a))
  })
})
