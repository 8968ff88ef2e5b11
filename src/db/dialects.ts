import path from 'node:path'
import { mkdirSync } from 'node:fs'
import type { Dialect } from 'kysely'
import type BetterSqlite3 from 'better-sqlite3'
import { requirePeer } from '../util/peer.js'
import { openSqlite } from '../util/sqlite-open.js'
import type { DatabaseOptions, ParsedDatabaseUrl } from './database.js'

/**
 * The Kysely dialect for a parsed URL: SQLite (WAL, busy timeout, BEGIN IMMEDIATE, a bounded
 * wait for its one connection), a pg pool or a mysql2 pool (both with a bounded wait for a
 * connection, and pool errors logged rather than crashing). `file` is the resolved SQLite file;
 * `label` names the database in logs (no password).
 */
export function makeDialect(parsed: ParsedDatabaseUrl, file: string | undefined, label: string, options: Readonly<DatabaseOptions>): Dialect {
  const k = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
  const acquireTimeout = options.acquireTimeout ?? 5000
  const max = options.poolSize ?? 10
  if (parsed.dialect === 'sqlite') {
    if (file === undefined) throw new TypeError('makeDialect(): a SQLite URL needs its file')
    const Sqlite = requirePeer<typeof BetterSqlite3>('better-sqlite3', 'better-sqlite3@12', 'database("sqlite:…")')
    const busy = options.busyTimeout ?? 5000
    const dialect = new k.SqliteDialect({
      database: async () => {
        if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true })
        const conn = await openSqlite(Sqlite, file, busy, (c) => {
          if (file !== ':memory:') c.pragma('journal_mode = WAL')
          c.pragma('foreign_keys = ON')
          c.pragma(`busy_timeout = ${Math.floor(busy)}`)
        })
        return cachePrepared(conn) as never
      },
    })
    // Writes in BEGIN IMMEDIATE: a deferred transaction that reads then writes can fail with
    // SQLITE_BUSY at once when another process writes; an immediate one waits its turn.
    const createDriver = dialect.createDriver.bind(dialect)
    dialect.createDriver = () => {
      const driver = createDriver()
      driver.beginTransaction = async (connection) => {
        await connection.executeQuery(k.CompiledQuery.raw('begin immediate'))
      }
      // Kysely shares one SQLite connection behind a lock with no time limit: a long
      // transaction would make every other request wait forever. Bound it like a pool.
      const acquire = driver.acquireConnection.bind(driver)
      driver.acquireConnection = () => new Promise((resolve, reject) => {
        let done = false
        const timer = setTimeout(() => {
          done = true
          reject(poolTimeout(acquireTimeout))
        }, acquireTimeout)
        acquire().then((conn) => {
          if (done) return void driver.releaseConnection(conn)
          done = true
          clearTimeout(timer)
          resolve(conn)
        }, (e: unknown) => {
          if (done) return
          done = true
          clearTimeout(timer)
          reject(e)
        })
      })
      return driver
    }
    return dialect
  }
  if (parsed.dialect === 'postgres') {
    const pg = requirePeer<typeof import('pg')>('pg', 'pg@8', 'database("postgres://…")')
    // connectionTimeoutMillis bounds both opening a connection and waiting for a free one.
    const pool = new pg.Pool({ connectionString: parsed.url, max, connectionTimeoutMillis: acquireTimeout })
    // An idle client's error (the server restarted) must not crash the process: the pool drops it.
    pool.on('error', (e) => console.error(`[carafe] database ${label}: an idle connection failed (the pool replaces it):`, e.message))
    return new k.PostgresDialect({ pool })
  }
  const mysql = requirePeer<typeof import('mysql2')>('mysql2', 'mysql2@3', 'database("mysql://…")')
  const pool = mysql.createPool({ uri: parsed.url, connectionLimit: max, connectTimeout: acquireTimeout, waitForConnections: true, queueLimit: 1000 })
  pool.on('connection', (conn) => conn.on('error', (e) => console.error(`[carafe] database ${label}: a connection failed (the pool replaces it):`, e.message)))
  return new k.MysqlDialect({ pool: boundedPool(pool, acquireTimeout) as never })
}

/** The error for a request that waited `ms` for a connection (a 503). */
function poolTimeout(ms: number): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`no free database connection within ${ms} ms (the pool is full; raise poolSize or acquireTimeout, or shorten transactions)`)
  e.code = 'ERR_POOL_TIMEOUT'
  return e
}

/** What Kysely's MysqlDialect calls on a pool. */
interface CallbackPool {
  getConnection(cb: (err: NodeJS.ErrnoException | null, conn?: { release(): void }) => void): void
  end(cb: (err: unknown) => void): void
}

/**
 * mysql2's pool queues a request for a connection with no time limit (it has no acquire
 * timeout), so a pool held full by slow transactions would make requests wait forever: give
 * up after `ms` with ERR_POOL_TIMEOUT (a 503), and hand a connection that arrives later
 * straight back.
 */
function boundedPool(pool: CallbackPool, ms: number): CallbackPool {
  return {
    getConnection(cb) {
      let done = false
      const timer = setTimeout(() => {
        done = true
        cb(poolTimeout(ms))
      }, ms)
      pool.getConnection((err, conn) => {
        if (done) {
          conn?.release()
          return
        }
        done = true
        clearTimeout(timer)
        cb(err, conn)
      })
    },
    end: (cb) => pool.end(cb),
  }
}

/** How many prepared statements one SQLite connection keeps for reuse. */
const STATEMENT_CACHE = 256

/**
 * Keep the connection's prepared statements, by SQL text, for the next query with the same
 * text: Kysely prepares each query anew, and preparing costs about as much as running a
 * small one. At most {@link STATEMENT_CACHE}, least recently used out first. Reuse is safe:
 * the connection serves one query at a time (Kysely's lock), and SQLite re-prepares a
 * statement by itself when the schema changed under it.
 */
function cachePrepared(conn: BetterSqlite3.Database): BetterSqlite3.Database {
  const prepare = conn.prepare.bind(conn)
  const cache = new Map<string, BetterSqlite3.Statement>()
  conn.prepare = ((sql: string) => {
    let stmt = cache.get(sql)
    if (stmt !== undefined) {
      cache.delete(sql)
    } else {
      stmt = prepare(sql)
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!)
    }
    cache.set(sql, stmt)
    return stmt
  }) as BetterSqlite3.Database['prepare']
  return conn
}
