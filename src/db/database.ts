import path from 'node:path'
import type { Kysely, Transaction } from 'kysely'
import type { Carafe, Plugin } from '../core/app.js'
import type { Context } from '../core/context.js'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import { makeDialect } from './dialects.js'
import { mapDbError } from './errors.js'

/** Which engine a URL names. */
export type DatabaseDialect = 'sqlite' | 'postgres' | 'mysql'

/** Options for {@link database}. */
export interface DatabaseOptions {
  /** Run the pending migrations (`migrations/` under the app root) when the app starts: under `carafe start` once per start and per reload, before any worker serves. @default false */
  migrate?: boolean
  /** The migrations folder, relative to the app root. @default 'migrations' */
  migrationsDir?: string
  /** Most connections in the pool (PostgreSQL, MariaDB). @default 10 */
  poolSize?: number
  /** How long a request waits for a free connection (or a connection to open; SQLite: for its one connection) before a 503, in ms. @default 5000 */
  acquireTimeout?: number
  /** SQLite: how long to wait for another process's write lock, in ms. @default 5000 */
  busyTimeout?: number
}

/** What a database URL says. */
export interface ParsedDatabaseUrl {
  dialect: DatabaseDialect
  /** SQLite: the file (relative to the app root unless absolute) or `:memory:`. */
  file?: string
  /** PostgreSQL / MariaDB: the URL itself. */
  url?: string
}

/**
 * Read a database URL: `sqlite:data/app.db` (relative to the app root), `sqlite:///abs/app.db`,
 * `sqlite::memory:`, `postgres://user@host:5432/db` (or `postgresql://`), `mysql://` or `mariadb://`.
 */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  if (typeof url !== 'string' || url === '') throw new CarafeError('ERR_DATABASE_URL', 'database(): give a URL such as sqlite:data/app.db, postgres://user@localhost/app or mysql://root@localhost/app')
  if (url.startsWith('sqlite:')) {
    let file = url.slice('sqlite:'.length)
    if (file.startsWith('//')) file = file.slice(2) // sqlite:///abs/path → /abs/path
    if (file === '') throw new CarafeError('ERR_DATABASE_URL', `database(${JSON.stringify(url)}): name a file (sqlite:data/app.db) or sqlite::memory:`)
    return { dialect: 'sqlite', file }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 'postgres' || scheme === 'postgresql') return { dialect: 'postgres', url }
  if (scheme === 'mysql' || scheme === 'mariadb') return { dialect: 'mysql', url: scheme === 'mariadb' ? `mysql${url.slice('mariadb'.length)}` : url }
  throw new CarafeError('ERR_DATABASE_URL', `database(${JSON.stringify(redact(url))}): unknown kind of database; use sqlite:…, postgres://… or mysql://…`)
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@')
}

/**
 * A database for an app: a typed Kysely query builder (`c.db` in handlers) on SQLite, PostgreSQL
 * or MariaDB, chosen by URL; opened on first use or at startup, closed on shutdown.
 *
 * @example
 * const db = database<DB>(process.env.DATABASE_URL ?? 'sqlite:data/app.db')
 * app.use(db.middleware())
 * app.get('/notes/<int:id>', (c) => c.db.selectFrom('notes').selectAll().where('id', '=', c.params.id).executeTakeFirstOrThrow())
 */
export class Database<DB> {
  readonly url: string
  readonly dialect: DatabaseDialect
  readonly options: Readonly<DatabaseOptions>
  readonly #parsed: ParsedDatabaseUrl
  #kysely: Kysely<DB> | null = null
  #root: string | null = null
  #closing: Promise<void> | null = null
  #pinned: Transaction<DB> | null = null
  /** The SQLite file the open query builder uses. */
  #openedFile: string | undefined
  #savepoints = 0

  constructor(url: string, options: DatabaseOptions = {}) {
    this.#parsed = parseDatabaseUrl(url)
    this.url = url
    this.dialect = this.#parsed.dialect
    this.options = options
  }

  /** The SQLite file this database opens (absolute), `:memory:`, or `undefined` for a server database. */
  file(root = this.#root ?? process.cwd()): string | undefined {
    const f = this.#parsed.file
    if (f === undefined) return undefined
    return f === ':memory:' ? f : path.resolve(root, f)
  }

  /**
   * The query builder, made on first use (connections open when the first query runs).
   * `root` is the folder a relative SQLite path resolves against (the app's root).
   */
  open(root?: string): Kysely<DB> {
    if (this.#pinned !== null) return this.#pinned
    if (this.#kysely !== null) return this.#kysely
    if (root !== undefined) this.#root = root
    const { Kysely: KyselyClass } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
    this.#kysely = new KyselyClass<DB>({ dialect: makeDialect(this.#parsed, this.file(), redact(this.url), this.options) })
    this.#openedFile = this.file()
    this.#closing = null
    return this.#kysely
  }

  /** The query builder; opens the database when needed (relative SQLite paths against the working directory). */
  get kysely(): Kysely<DB> {
    return this.open()
  }

  /** Close every connection (the app's shutdown does this). Safe to call twice. */
  close(): Promise<void> {
    const k = this.#kysely
    if (k === null) return this.#closing ?? Promise.resolve()
    this.#kysely = null
    this.#closing = k.destroy()
    return this.#closing
  }

  /**
   * Ask the database a trivial question (`select 1`): resolves once it answers, rejects when
   * it cannot be reached. `/readyz` of `health()` calls it through the plugin.
   */
  async ping(): Promise<void> {
    const { sql } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
    await sql`select 1`.execute(this.open())
  }

  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when it throws (SQLite:
   * `BEGIN IMMEDIATE`, so two workers writing one file wait for each other instead of failing).
   *
   * @example
   * await db.transaction(async (tx) => { await tx.insertInto('notes').values(note).execute(); … })
   */
  transaction<T>(fn: (tx: Transaction<DB>) => Promise<T>): Promise<T> {
    const pinned = this.#pinned
    if (pinned !== null) return this.#inSavepoint(pinned, () => fn(pinned))
    return this.open().transaction().execute(fn)
  }

  /**
   * Make `c.db`, `db.kysely` and `db.transaction()` use `tx` until `pin(null)`: how
   * `withRollback()` from `carafe/testing` runs an app's requests inside one transaction that
   * it rolls back. `db.transaction()` then becomes a savepoint, and each request runs in one.
   */
  pin(tx: Transaction<DB> | null): void {
    this.#pinned = tx
  }

  /** The transaction {@link pin} set, or `null`. */
  get pinned(): Transaction<DB> | null {
    return this.#pinned
  }

  /**
   * Run `fn` inside a savepoint of `tx`: released when it resolves, rolled back to when it
   * throws. PostgreSQL refuses every statement after an error until the savepoint is rolled
   * back, so a failed request or inner transaction must not poison the test's transaction.
   */
  async #inSavepoint<T>(tx: Transaction<DB>, fn: () => Promise<T>): Promise<T> {
    const { CompiledQuery } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
    const name = `carafe_sp_${++this.#savepoints}`
    await tx.executeQuery(CompiledQuery.raw(`savepoint ${name}`))
    let out: T
    try {
      out = await fn()
    } catch (e) {
      await tx.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`))
      throw e
    }
    try {
      await tx.executeQuery(CompiledQuery.raw(`release savepoint ${name}`))
    } catch {
      // The request failed inside (its error became a response): undo what it left half done.
      await tx.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`))
      await tx.executeQuery(CompiledQuery.raw(`release savepoint ${name}`))
    }
    return out
  }

  /**
   * The plugin that gives handlers `c.db`: opens at startup (and runs pending migrations with
   * `{ migrate: true }`), closes after the server drains, and turns database errors into HTTP
   * answers: no row (`executeTakeFirstOrThrow`) → 404, a unique or foreign-key violation → 409,
   * a database that is down or a pool that stays full → 503.
   */
  middleware(): Plugin & { ping(): Promise<void> } {
    const db = this
    return {
      name: 'db',
      middleware(c: Context<any>, next) {
        const pinned = db.#pinned
        if (pinned !== null) {
          c.set('db' as never, pinned as never)
          return db.#inSavepoint(pinned, next)
        }
        c.set('db' as never, db.open(c.root) as never)
        return next()
      },
      async startup(app: Carafe) {
        // `db.kysely` used before the app started opened a relative SQLite path against the
        // working directory; going on would quietly use another file than the app's.
        const opened = db.#kysely === null ? undefined : db.#openedFile
        if (opened !== undefined && opened !== db.file(app.root)) {
          throw new CarafeError('ERR_DB_ROOT', `database(${JSON.stringify(db.url)}) was opened (db.kysely) before the app started, as ${opened}, but the app's root makes it ${db.file(app.root)}: give an absolute path (sqlite:///…), or call db.open(app.root) before using db.kysely`)
        }
        db.open(app.root)
      },
      // Once per start (under `carafe start`: in the primary's short-lived child, with the
      // code being started; with one process: just before startup).
      async primary(app: Carafe) {
        if (db.options.migrate !== true) return
        const { migrate } = await import('./migrate.js')
        db.open(app.root)
        await migrate(db, { dir: path.resolve(app.root, db.options.migrationsDir ?? 'migrations') })
      },
      shutdown: () => db.close(),
      mapError: mapDbError,
      ping: () => db.ping(),
    }
  }
}

/**
 * Open a database by URL: `sqlite:data/app.db` (the embedded default: a file under the app
 * root, nothing to install but better-sqlite3), `sqlite::memory:`, `postgres://…`, `mysql://…`.
 * The driver a URL needs is an optional peer dependency, asked for by name when missing.
 */
export function database<DB>(url: string, options?: DatabaseOptions): Database<DB> {
  return new Database<DB>(url, options)
}
