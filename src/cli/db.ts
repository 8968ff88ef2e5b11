import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { CarafeError } from '../core/errors.js'
import type { Database, DatabaseDialect } from '../db/database.js'
import type { MigrateOptions } from '../db/migrate.js'
import { nearest, parseFlags, UsageError } from './args.js'
import { migrationTemplate } from './db-template.js'

const WHERE = `
Where:
      --url URL           the database (default: $DATABASE_URL), e.g. sqlite:data/app.db,
                          postgres://user@localhost/app, mysql://root@localhost/app
      --dir DIR           the migrations folder (default: migrations)
      --app FILE          the app file: relative paths (--dir, a sqlite: file, the seed
                          file) resolve against its folder, else the working directory
      --table NAME        the table that records applied migrations
                          (default: kysely_migration; its lock table is NAME_lock)
  -h, --help              show this help
`

/** `carafe db --help`. */
export const DB_HELP = `Usage: carafe db <command> [options]

Migrations are files migrations/<timestamp>_<name>.ts exporting up(db) and down(db),
run in name order, one run at a time even when several instances start together.

Commands:
  new <name>              Write migrations/<timestamp>_<name>.ts from a typed template
                          (create_<table> writes a createTable for <table>)
  migrate [--to NAME]     Apply the pending migrations (or up, or back down, to NAME)
  rollback [--steps N]    Undo the last N applied migrations (default 1)
  status                  List the migrations, applied (with when) or pending
  types [--out FILE]      Write interface DB { … } from the live schema (default: stdout)
  seed [file]             Run a seed file exporting seed(db) (default: seeds/seed.ts),
                          in one transaction
${WHERE}`

const SUBCOMMANDS = ['new', 'migrate', 'rollback', 'status', 'types', 'seed']

const COMMON = {
  url: { type: 'string' },
  dir: { type: 'string' },
  app: { type: 'string' },
  table: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

const SPECS = {
  new: { usage: 'new <name>', about: 'Write migrations/<timestamp>_<name>.ts from a typed template; a name create_<table>\nwrites a createTable for <table> (with --url or $DATABASE_URL, in that dialect).', flags: {} },
  migrate: { usage: 'migrate [--to NAME]', about: 'Apply the pending migrations, in name order. --to NAME migrates up to NAME (inclusive),\nor, when NAME is applied, back down to it. A failing migration stops the run and exits 1;\nPostgreSQL and SQLite keep nothing from the failed run, MariaDB keeps what ran before it.\n      --to NAME           the migration to stop at (its file name without the extension)', flags: { to: { type: 'string' } } },
  rollback: { usage: 'rollback [--steps N]', about: 'Undo the last applied migrations with their down(db), newest first.\n      --steps N           how many (default 1)', flags: { steps: { type: 'string' } } },
  status: { usage: 'status', about: 'List every migration file: applied (with when, UTC) or pending.', flags: {} },
  types: { usage: 'types [--out FILE]', about: 'Write interface DB { … } for the live schema (Kysely introspection): one interface\nper table, nullable columns as | null, defaults and auto-increments as Generated<…>.\n      --out FILE          write to FILE (relative to the working directory), not stdout', flags: { out: { type: 'string' } } },
  seed: { usage: 'seed [file]', about: 'Run a seed file (default: seeds/seed.ts) exporting seed(db), inside one transaction:\nwhen it throws, nothing it wrote is kept.', flags: {} },
} as const

type Sub = keyof typeof SPECS

/** The help text of `carafe db <sub>`. */
export function subHelp(sub: Sub): string {
  return `Usage: carafe db ${SPECS[sub].usage} [options]\n\n${SPECS[sub].about}\n${WHERE}`
}

/** `carafe db …`. */
export async function dbCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') return void process.stdout.write(DB_HELP)
  if (!(sub in SPECS)) {
    const near = sub.startsWith('-') ? undefined : nearest(sub, SUBCOMMANDS)
    throw new UsageError(`unknown db command "${sub}"${near === undefined ? '' : ` (did you mean ${near}?)`}`, DB_HELP)
  }
  const name = sub as Sub
  const help = subHelp(name)
  const { values, positionals } = parseFlags(rest, { ...COMMON, ...SPECS[name].flags }, help)
  if (values.help === true) return void process.stdout.write(help)
  const root = appRoot(values.app as string | undefined, help)
  const options: MigrateOptions = {
    dir: path.resolve(root, (values.dir as string | undefined) ?? 'migrations'),
    ...(values.table === undefined ? {} : { table: String(values.table) }),
  }
  const url = (values.url as string | undefined) ?? process.env.DATABASE_URL
  if (name === 'new') {
    try {
      return await newCommand(positionals, options.dir, url, help)
    } catch (e) {
      if (!(e instanceof CarafeError) && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      console.error(`carafe: ${(e as Error).message}`)
      process.exit(1)
    }
  }
  if (name === 'seed' ? positionals.length > 1 : positionals.length > 0) throw new UsageError(`carafe db ${name} takes ${name === 'seed' ? 'at most one file' : 'no arguments'} (got ${positionals.join(' ')})`, help)
  if (url === undefined || url === '') throw new UsageError('name the database with --url or DATABASE_URL, e.g. --url sqlite:data/app.db', help)
  const { database, redact } = await import('../db/database.js')
  const db = database<any>(url)
  db.open(root)
  try {
    if (name === 'migrate') await migrateCommand(db, options, values.to as string | undefined)
    else if (name === 'rollback') await rollbackCommand(db, options, parseSteps(values.steps as string | undefined, help))
    else if (name === 'status') await statusCommand(db, options)
    else if (name === 'types') await typesCommand(db, options, values.out as string | undefined)
    else await seedCommand(db, path.resolve(root, positionals[0] ?? 'seeds/seed.ts'))
  } catch (e) {
    // A driver's error (the server is down, a password is wrong) is one line too, not a stack.
    if (!(e instanceof Error) || e instanceof UsageError) throw e
    const why = e.message !== '' ? e.message : (e as NodeJS.ErrnoException).code ?? e.name
    console.error(`carafe: ${e instanceof CarafeError ? why : `database ${redact(url)}: ${why}`}`)
    process.exitCode = 1
  } finally {
    await db.close()
  }
  // The TypeScript hooks' worker or a driver's timers must not keep a finished command alive.
  process.exit()
}

function appRoot(app: string | undefined, usage: string): string {
  if (app === undefined) return process.cwd()
  const file = path.resolve(app)
  if (!existsSync(file)) throw new UsageError(`--app ${app}: no such file`, usage)
  return path.dirname(file)
}

function parseSteps(text: string | undefined, usage: string): number {
  if (text === undefined) return 1
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--steps takes a whole number of at least 1, not "${text}"`, usage)
  return Number(text)
}

async function newCommand(positionals: string[], dir: string, url: string | undefined, usage: string): Promise<void> {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the migration, e.g. carafe db new create_notes' : `one name, please (got ${positionals.join(' ')})`, usage)
  const name = positionals[0]!
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) throw new UsageError(`a migration name is letters, digits, _ and -, like create_notes (got "${name}")`, usage)
  let dialect: DatabaseDialect = 'sqlite'
  if (url !== undefined && url !== '') dialect = (await import('../db/database.js')).parseDatabaseUrl(url).dialect
  await mkdir(dir, { recursive: true })
  // Migrations run in name order: one made in the same second as (or, with a skewed clock,
  // before) the newest file still sorts after it.
  const { migrationFiles } = await import('../db/migrate.js')
  const newest = (await migrationFiles(dir)).map((f) => /^(\d{14})_/.exec(f)?.[1]).filter((t) => t !== undefined).sort().at(-1)
  let when = new Date()
  if (newest !== undefined && timestamp(when) <= newest) when = new Date(parseTimestamp(newest) + 1000)
  const file = path.join(dir, `${timestamp(when)}_${name}.ts`)
  await writeFile(file, migrationTemplate(name, dialect), { flag: 'wx' })
  console.log(`Wrote ${path.relative(process.cwd(), file) || file}`)
}

/** `YYYYMMDDHHMMSS` in UTC, so names sort in the order they were made wherever they were made. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

function parseTimestamp(t: string): number {
  return Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(8, 10), +t.slice(10, 12), +t.slice(12, 14))
}

async function migrateCommand(db: Database<any>, options: MigrateOptions, to: string | undefined): Promise<void> {
  const { migrate } = await import('../db/migrate.js')
  const result = await migrate(db, { ...options, ...(to === undefined ? {} : { to }) })
  const done = (result.results ?? []).filter((r) => r.status === 'Success')
  if (done.length === 0) return void console.log(to === undefined ? 'Nothing to migrate: every migration is applied' : `Nothing to do: already at ${to}`)
  for (const r of done) console.log(`${r.direction === 'Up' ? 'Applied' : 'Rolled back'} ${r.migrationName}`)
}

async function rollbackCommand(db: Database<any>, options: MigrateOptions, steps: number): Promise<void> {
  const { rollback } = await import('../db/migrate.js')
  const done = ((await rollback(db, { ...options, steps })).results ?? []).filter((r) => r.status === 'Success')
  if (done.length === 0) return void console.log('Nothing to roll back: no migration is applied')
  for (const r of done) console.log(`Rolled back ${r.migrationName}`)
}

async function statusCommand(db: Database<any>, options: MigrateOptions): Promise<void> {
  const { migrationStatus } = await import('../db/migrate.js')
  const rows = await migrationStatus(db, options)
  if (rows.length === 0) return void console.log(`No migrations in ${path.relative(process.cwd(), options.dir) || options.dir}`)
  const when = (d: Date | undefined): string => d === undefined ? '-' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const table = rows.map((r) => [r.appliedAt === undefined ? 'pending' : 'applied', when(r.appliedAt), r.name])
  const widths = [7, Math.max('Applied at'.length, ...table.map((r) => r[1]!.length))]
  const line = (cells: string[]): string => `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]!.padEnd(widths[1]!)}  ${cells[2]}`
  console.log([line(['Status', 'Applied at', 'Migration']), ...table.map(line)].join('\n'))
  const pending = rows.filter((r) => r.appliedAt === undefined).length
  console.log(`\n${rows.length - pending} applied, ${pending} pending`)
}

async function typesCommand(db: Database<any>, options: MigrateOptions, out: string | undefined): Promise<void> {
  const { generateTypes } = await import('../db/types.js')
  const table = options.table ?? 'kysely_migration'
  const text = await generateTypes(db.kysely, db.dialect, { exclude: [table, options.table === undefined ? 'kysely_migration_lock' : `${table}_lock`] })
  if (out === undefined) return void process.stdout.write(text)
  const file = path.resolve(out)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
  console.log(`Wrote ${out}`)
}

async function seedCommand(db: Database<any>, file: string): Promise<void> {
  if (!existsSync(file)) throw new CarafeError('ERR_SEED', `no seed file ${file} (write one exporting seed(db), or name it: carafe db seed path/to/seed.ts)`)
  if (/\.m?ts$/.test(file)) await (await import('./ts-register.js')).registerTypeScript()
  const mod = (await import(pathToFileURL(file).href)) as { seed?: unknown }
  if (typeof mod.seed !== 'function') throw new CarafeError('ERR_SEED', `${file} exports no seed(db) function`)
  const seed = mod.seed as (db: unknown) => unknown
  try {
    await db.transaction(async (tx) => { await seed(tx) })
  } catch (e) {
    if (e instanceof CarafeError) throw e
    throw new CarafeError('ERR_SEED', `seed ${file} failed: ${(e as Error).message ?? String(e)} (rolled back: nothing it wrote was kept)`)
  }
  console.log(`Seeded from ${path.relative(process.cwd(), file) || file}`)
}
