import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import Sqlite from 'better-sqlite3'
import pg from 'pg'
import { DB_HELP, subHelp } from '../../src/cli/db.js'
import { appDir, ROOT, spawnCli, waitForServer } from '../helpers/spawn.js'
import { needService, SERVICES, uniqueName } from '../helpers/services.js'

/** A migration that logs its run into `mig_log` (made by the first one), so a double run shows. */
const logged = (name: string, extra = ''): string => `import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql\`create table if not exists mig_log (name varchar(100) not null, pid integer not null)\`.execute(db)
  await db.insertInto('mig_log').values({ name: '${name}', pid: process.pid }).execute()
  ${extra}
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('mig_log').where('name', '=', '${name}').execute()
}
`

const CREATE_NOTES = `import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('notes')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('body', 'text')
    .addColumn('score', 'real', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamp', (col) => col.notNull().defaultTo(sql\`CURRENT_TIMESTAMP\`))
    .addColumn('data', 'blob')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notes').execute()
}
`

const FAILING = `import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql\`create table second_table (id integer)\`.execute(db)
  await sql\`select * from no_such_table_here\`.execute(db)
}

export async function down(): Promise<void> {}
`

async function project(files: Record<string, string>): Promise<string> {
  const dir = await appDir()
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), text)
  }
  return dir
}

async function cli(t: TestContext, args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnCli(t, ['db', ...args], { DATABASE_URL: undefined, ...env })
  const code = await p.exited
  return { code, out: p.stdout(), err: p.stderr() }
}

function sqliteRows<T>(file: string, query: string): T[] {
  const conn = new Sqlite(file, { readonly: true })
  try {
    return conn.prepare(query).all() as T[]
  } finally {
    conn.close()
  }
}

/** A PostgreSQL schema of its own, as a URL whose search path points there; dropped after the test. */
async function pgSchema(t: TestContext): Promise<{ url: string; query: (q: string) => Promise<unknown[]> }> {
  const schema = uniqueName('mig').toLowerCase()
  const client = new pg.Client({ connectionString: SERVICES.postgres.url })
  await client.connect()
  await client.query(`create schema ${schema}`)
  t.after(async () => {
    await client.query(`drop schema ${schema} cascade`)
    await client.end()
  })
  return {
    url: `${SERVICES.postgres.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    query: async (q) => (await client.query(q.replaceAll('$schema', schema))).rows,
  }
}

describe('carafe db', () => {
  it('prints its help (snapshot) and suggests a near miss', async (t) => {
    const help = await cli(t, ['--help'])
    assert.equal(help.code, 0)
    assert.equal(help.out, DB_HELP)
    for (const sub of ['new', 'migrate', 'rollback', 'status', 'types', 'seed'] as const) {
      const h = await cli(t, [sub, '--help'])
      assert.equal(h.code, 0)
      assert.equal(h.out, subHelp(sub))
      assert.match(h.out, new RegExp(`^Usage: carafe db ${sub}`))
    }
    const typo = await cli(t, ['migrat'])
    assert.equal(typo.code, 2)
    assert.match(typo.err, /^carafe: unknown db command "migrat" \(did you mean migrate\?\)/)
    const flag = await cli(t, ['rollback', '--stesp', '2'])
    assert.equal(flag.code, 2)
    assert.match(flag.err, /unknown option --stesp \(did you mean --steps\?\)/)
    const noUrl = await cli(t, ['status'])
    assert.equal(noUrl.code, 2)
    assert.match(noUrl.err, /name the database with --url or DATABASE_URL/)
    const down = await cli(t, ['status', '--url', 'postgres://postgres:secret@127.0.0.1:1/test'])
    assert.equal(down.code, 1)
    assert.match(down.err, /^carafe: database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: (connect )?ECONNREFUSED/)
    assert.doesNotMatch(down.err, /secret|\n {4}at /)
    const top = spawnCli(t, ['dbb'])
    assert.equal(await top.exited, 2)
    assert.match(top.stderr(), /did you mean db\?/)
  })

  it('new writes timestamped, typed migrations that migrate, in the order they were made', async (t) => {
    const dir = await project({})
    const url = `sqlite:${path.join(dir, 'app.db')}`
    const a = await cli(t, ['new', 'create_notes', '--dir', path.join(dir, 'migrations')])
    assert.equal(a.code, 0, a.err)
    const b = await cli(t, ['new', 'add_title', '--dir', path.join(dir, 'migrations')])
    assert.equal(b.code, 0, b.err)
    const files = await readdir(path.join(dir, 'migrations'))
    assert.equal(files.length, 2)
    assert.match(files[0]!, /^\d{14}_create_notes\.ts$/)
    assert.match(files[1]!, /^\d{14}_add_title\.ts$/)
    const text = await readFile(path.join(dir, 'migrations', files[0]!), 'utf8')
    assert.match(text, /import \{ sql, type Kysely \} from 'kysely'/)
    assert.match(text, /export async function up\(db: Kysely<any>\): Promise<void>/)
    assert.match(text, /createTable\('notes'\)/)
    const m = await cli(t, ['migrate', '--url', url, '--dir', path.join(dir, 'migrations')])
    assert.equal(m.code, 0, m.err)
    assert.match(m.out, /Applied \d{14}_create_notes\nApplied \d{14}_add_title\n/)
    assert.deepEqual(sqliteRows(path.join(dir, 'app.db'), "select name from sqlite_master where name = 'notes'"), [{ name: 'notes' }])
    const bad = await cli(t, ['new', 'drop table', '--dir', path.join(dir, 'migrations')])
    assert.equal(bad.code, 2)
  })

  it('migrate, status, --to, rollback --steps, with --app resolving relative paths (SQLite)', async (t) => {
    const dir = await project({
      'app.ts': 'export {}\n',
      'migrations/20260101000001_one.ts': logged('one'),
      'migrations/20260101000002_two.ts': logged('two'),
      'migrations/20260101000003_three.ts': logged('three'),
    })
    const env = { DATABASE_URL: 'sqlite:data/app.db' }
    const app = ['--app', path.join(dir, 'app.ts')]
    const file = path.join(dir, 'data/app.db')
    const log = (): string[] => sqliteRows<{ name: string }>(file, 'select name from mig_log order by rowid').map((r) => r.name)

    const to = await cli(t, ['migrate', '--to', '20260101000002_two', ...app], env)
    assert.equal(to.code, 0, to.err)
    assert.equal(to.out, 'Applied 20260101000001_one\nApplied 20260101000002_two\n')
    assert.deepEqual(log(), ['one', 'two'])

    const status = await cli(t, ['status', ...app], env)
    assert.equal(status.code, 0, status.err)
    assert.match(status.out, /^Status +Applied at +Migration\napplied +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +20260101000001_one\napplied +\S+ \S+ +20260101000002_two\npending +- +20260101000003_three\n\n2 applied, 1 pending\n$/)

    const rest = await cli(t, ['migrate', ...app], env)
    assert.equal(rest.out, 'Applied 20260101000003_three\n')
    assert.equal((await cli(t, ['migrate', ...app], env)).out, 'Nothing to migrate: every migration is applied\n')

    const back = await cli(t, ['rollback', '--steps', '2', ...app], env)
    assert.equal(back.code, 0, back.err)
    assert.equal(back.out, 'Rolled back 20260101000003_three\nRolled back 20260101000002_two\n')
    assert.deepEqual(log(), ['one'])
    assert.equal((await cli(t, ['rollback', ...app], env)).out, 'Rolled back 20260101000001_one\n')
    assert.equal((await cli(t, ['rollback', ...app], env)).out, 'Nothing to roll back: no migration is applied\n')
    assert.match((await cli(t, ['status', ...app], env)).out, /0 applied, 3 pending/)

    const unknown = await cli(t, ['migrate', '--to', 'nope', ...app], env)
    assert.equal(unknown.code, 1)
    assert.match(unknown.err, /no migration named nope/)
  })

  it('a failing migration (the second of two) exits 1 naming the file and why; SQLite keeps nothing of the run', async (t) => {
    const dir = await project({
      'migrations/20260101000001_one.ts': logged('one'),
      'migrations/20260101000002_broken.ts': FAILING,
    })
    const url = `sqlite:${path.join(dir, 'app.db')}`
    const r = await cli(t, ['migrate', '--url', url, '--dir', path.join(dir, 'migrations')])
    assert.equal(r.code, 1)
    assert.match(r.err, /^carafe: migration 20260101000002_broken \(.*migrations\/20260101000002_broken\.ts\) failed: no such table: no_such_table_here \(the run was one transaction, so nothing from it was kept\)\n$/)
    const tables = sqliteRows<{ name: string }>(path.join(dir, 'app.db'), "select name from sqlite_master where type = 'table' order by name").map((x) => x.name)
    assert.ok(!tables.includes('mig_log') && !tables.includes('second_table'), tables.join())
    assert.match((await cli(t, ['status', '--url', url, '--dir', path.join(dir, 'migrations')])).out, /0 applied, 2 pending/)
  })

  it('a failing migration on PostgreSQL keeps nothing of the run; exit 1', async (t) => {
    if (!(await needService(t, 'postgres'))) return
    const { url, query } = await pgSchema(t)
    const dir = await project({ 'migrations/20260101000001_one.ts': logged('one'), 'migrations/20260101000002_broken.ts': FAILING })
    const r = await cli(t, ['migrate', '--url', url, '--dir', path.join(dir, 'migrations')])
    assert.equal(r.code, 1)
    assert.match(r.err, /migration 20260101000002_broken \(.*20260101000002_broken\.ts\) failed: relation "no_such_table_here" does not exist \(the run was one transaction/)
    const tables = await query(`select table_name from information_schema.tables where table_schema = '$schema' order by table_name`)
    assert.deepEqual(tables, [{ table_name: 'kysely_migration' }, { table_name: 'kysely_migration_lock' }])
  })

  it('a failing migration on MariaDB keeps the one before it (DDL commits as it runs); exit 1', async (t) => {
    if (!(await needService(t, 'mariadb'))) return
    const mysql = (await import('mysql2/promise')).default
    const conn = await mysql.createConnection({ uri: SERVICES.mariadb.url })
    const table = uniqueName('mig')
    const log = uniqueName('log')
    t.after(async () => {
      await conn.query(`drop table if exists ${table}, ${table}_lock, ${log}, second_table_${table}`)
      await conn.end()
    })
    const dir = await project({
      'migrations/20260101000001_one.ts': logged('one').replaceAll('mig_log', log),
      'migrations/20260101000002_broken.ts': FAILING.replace('second_table', `second_table_${table}`),
    })
    const r = await cli(t, ['migrate', '--url', SERVICES.mariadb.url, '--table', table, '--dir', path.join(dir, 'migrations')])
    assert.equal(r.code, 1)
    assert.match(r.err, /migration 20260101000002_broken \(.*20260101000002_broken\.ts\) failed: .*no_such_table_here.* doesn't exist \(MariaDB\/MySQL commits DDL as it runs/)
    const [applied] = await conn.query(`select name from ${table}`)
    assert.deepEqual(applied, [{ name: '20260101000001_one' }])
    const [rows] = await conn.query(`select name from ${log}`)
    assert.deepEqual(rows, [{ name: 'one' }])
  })

  it('types writes interface DB from the live schema, and it compiles against Kysely (SQLite)', async (t) => {
    const dir = await project({ 'migrations/20260101000001_create_notes.ts': CREATE_NOTES })
    const url = `sqlite:${path.join(dir, 'app.db')}`
    assert.equal((await cli(t, ['migrate', '--url', url, '--dir', path.join(dir, 'migrations')])).code, 0)
    const out = path.join(dir, 'src/db-types.ts')
    const r = await cli(t, ['types', '--url', url, '--out', out])
    assert.equal(r.code, 0, r.err)
    assert.equal(await readFile(out, 'utf8'), `// Written by \`carafe db types\` from the live schema: run it again after migrating, do not edit.
import type { Generated } from 'kysely'

export interface Notes {
  id: Generated<number>
  title: string
  body: string | null
  score: Generated<number>
  created_at: Generated<string>
  data: Buffer | null
}

export interface DB {
  notes: Notes
}
`)
    assert.equal((await cli(t, ['types', '--url', url])).out, await readFile(out, 'utf8'))
    await writeFile(path.join(dir, 'src/use.ts'), `import { Kysely, SqliteDialect } from 'kysely'
import Sqlite from 'better-sqlite3'
import type { DB } from './db-types.js'
const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Sqlite(':memory:') }) })
export const insert = db.insertInto('notes').values({ title: 'needs only the title' })
export async function read(): Promise<{ id: number; body: string | null }[]> {
  return db.selectFrom('notes').select(['id', 'body']).execute()
}
// @ts-expect-error title is not nullable
export const bad = db.insertInto('notes').values({ title: null })
`)
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', path.join(dir, 'src/use.ts')]
    await writeFile(path.join(dir, 'package.json'), '{"type":"module"}\n')
    const res = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: dir }).catch((e: { stdout: string; stderr: string }) => e)
    assert.equal(res.stdout, '', `tsc: ${res.stdout}${res.stderr}`)
  })

  it('types on PostgreSQL maps pg types, nullability and defaults', async (t) => {
    if (!(await needService(t, 'postgres'))) return
    const { url, query } = await pgSchema(t)
    await query(`create table $schema.posts (id serial primary key, title text not null, views bigint, price numeric(10,2) not null default 0,
      published boolean, at timestamptz not null default now(), tags text[], meta jsonb)`)
    const r = await cli(t, ['types', '--url', url])
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /import type \{ ColumnType, Generated \} from 'kysely'/)
    const schema = (/export interface DB \{\n {2}"([^"]+)": (\w+)\n\}/.exec(r.out) ?? [])[1] ?? ''
    assert.ok(schema.endsWith('.posts'), r.out)
    assert.match(r.out, /\n {2}id: Generated<number>\n {2}title: string\n {2}views: ColumnType<string, string \| number \| bigint, string \| number \| bigint> \| null\n {2}price: Generated<ColumnType<string, string \| number, string \| number>>\n {2}published: boolean \| null\n {2}at: Generated<ColumnType<Date, Date \| string, Date \| string>>\n {2}tags: string\[\] \| null\n {2}meta: unknown \| null\n/)
  })

  it('types on MariaDB maps mysql2 types, nullability and defaults', async (t) => {
    if (!(await needService(t, 'mariadb'))) return
    const mysql = (await import('mysql2/promise')).default
    const conn = await mysql.createConnection({ uri: SERVICES.mariadb.url })
    const name = uniqueName('types')
    t.after(async () => {
      await conn.query(`drop table if exists ${name}`)
      await conn.end()
    })
    await conn.query(`create table ${name} (id int auto_increment primary key, title varchar(50) not null, price decimal(8,2) not null default 0,
      at datetime, flag tinyint(1) not null default 1, data blob)`)
    const r = await cli(t, ['types', '--url', SERVICES.mariadb.url])
    assert.equal(r.code, 0, r.err)
    const block = new RegExp(`export interface (\\w+) \\{\\n( {2}.*\\n)+\\}`, 'g')
    const mine = [...r.out.matchAll(block)].find((m) => r.out.includes(`  ${name}: ${m[1]}\n`))
    assert.ok(mine !== undefined, r.out)
    assert.equal(mine[0].replace(/^export interface \w+/, ''), ` {
  id: Generated<number>
  title: string
  price: Generated<ColumnType<string, string | number, string | number>>
  at: ColumnType<Date, Date | string, Date | string> | null
  flag: Generated<number>
  data: Buffer | null
}`)
  })

  it('seed runs seeds/seed.ts in one transaction; a throwing seed keeps nothing and exits 1', async (t) => {
    const dir = await project({
      'app.ts': 'export {}\n',
      'migrations/20260101000001_create_notes.ts': CREATE_NOTES,
      'seeds/seed.ts': `import type { Kysely } from 'kysely'
export async function seed(db: Kysely<any>): Promise<void> {
  await db.insertInto('notes').values([{ title: 'first' }, { title: 'second' }]).execute()
}
`,
      'seeds/broken.ts': `import type { Kysely } from 'kysely'
export async function seed(db: Kysely<any>): Promise<void> {
  await db.insertInto('notes').values({ title: 'kept?' }).execute()
  throw new Error('seed data is wrong')
}
`,
    })
    const env = { DATABASE_URL: 'sqlite:app.db' }
    const app = ['--app', path.join(dir, 'app.ts')]
    assert.equal((await cli(t, ['migrate', ...app], env)).code, 0)
    const r = await cli(t, ['seed', ...app], env)
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /^Seeded from .*seeds\/seed\.ts\n$/)
    const titles = (): string[] => sqliteRows<{ title: string }>(path.join(dir, 'app.db'), 'select title from notes order by id').map((x) => x.title)
    assert.deepEqual(titles(), ['first', 'second'])
    const bad = await cli(t, ['seed', 'seeds/broken.ts', ...app], env)
    assert.equal(bad.code, 1)
    assert.match(bad.err, /seed .*seeds\/broken\.ts failed: seed data is wrong \(rolled back/)
    assert.deepEqual(titles(), ['first', 'second'])
    const missing = await cli(t, ['seed', 'seeds/none.ts', ...app], env)
    assert.equal(missing.code, 1)
    assert.match(missing.err, /no seed file .*none\.ts/)
  })
})

const APP = `import { Carafe } from 'carafe'
import { database } from 'carafe/db'
const app = new Carafe()
const db = database(process.env.DATABASE_URL!, { migrate: true })
app.use(db.middleware())
app.get('/', () => 'ok')
export default app
`

/** Migrations slow enough that two unlocked runs would overlap. */
const SLOW = { 'migrations/20260101000001_one.ts': logged('one', 'await new Promise((r) => setTimeout(r, 300))'), 'migrations/20260101000002_two.ts': logged('two') }

async function startTwo(t: TestContext, dir: string, url: string): Promise<void> {
  const env = { DATABASE_URL: url }
  const a = spawnCli(t, ['run', path.join(dir, 'app.ts'), '--port', '0', '--host', '127.0.0.1'], env)
  const b = spawnCli(t, ['run', path.join(dir, 'app.ts'), '--port', '0', '--host', '127.0.0.1'], env)
  const urls = await Promise.all([waitForServer(a), waitForServer(b)])
  for (const u of urls) assert.equal(await (await fetch(u)).text(), 'ok')
}

describe('database(url, { migrate: true })', () => {
  it('two instances starting together on one SQLite file apply each migration once (migrations/ beside the app)', async (t) => {
    const dir = await project({ 'app.ts': APP, ...SLOW })
    await startTwo(t, dir, 'sqlite:data/app.db')
    const rows = sqliteRows<{ name: string; n: number }>(path.join(dir, 'data/app.db'), 'select name, count(*) as n from mig_log group by name order by name')
    assert.deepEqual(rows, [{ name: 'one', n: 1 }, { name: 'two', n: 1 }])
  })

  it('two instances starting together on PostgreSQL apply each migration once', async (t) => {
    if (!(await needService(t, 'postgres'))) return
    const { url, query } = await pgSchema(t)
    const dir = await project({ 'app.ts': APP, ...SLOW })
    await startTwo(t, dir, url)
    assert.deepEqual(await query('select name, count(*)::int as n from $schema.mig_log group by name order by name'), [{ name: 'one', n: 1 }, { name: 'two', n: 1 }])
  })

  it('two carafe db migrate processes on MariaDB apply each migration once (named lock)', async (t) => {
    if (!(await needService(t, 'mariadb'))) return
    const mysql = (await import('mysql2/promise')).default
    const conn = await mysql.createConnection({ uri: SERVICES.mariadb.url })
    const table = uniqueName('mig')
    const log = uniqueName('log')
    t.after(async () => {
      await conn.query(`drop table if exists ${table}, ${table}_lock, ${log}`)
      await conn.end()
    })
    const files = Object.fromEntries(Object.entries(SLOW).map(([k, v]) => [k, v.replaceAll('mig_log', log)]))
    const dir = await project(files)
    const args = ['migrate', '--url', SERVICES.mariadb.url, '--table', table, '--dir', path.join(dir, 'migrations')]
    const [a, b] = await Promise.all([cli(t, args), cli(t, args)])
    assert.equal(a.code, 0, a.err)
    assert.equal(b.code, 0, b.err)
    const [rows] = await conn.query(`select name, count(*) as n from ${log} group by name order by name`)
    assert.deepEqual(rows, [{ name: 'one', n: 1 }, { name: 'two', n: 1 }])
  })
})
