import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import { openSqlite } from '../util/sqlite-open.js'
import { putValue, toJson } from './memory-store.js'
import { SessionStoreError, type SessionPatch, type SessionRecord, type SessionStore, type StoreEnv, type StoredSession } from './store.js'

/** Options for {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file, relative to the app's root folder (its folder is created), or `':memory:'`. @default 'data/sessions.db' */
  path?: string
  /** The table sessions live in (created when missing). @default 'carafe_sessions' */
  table?: string
  /** How often expired rows are deleted, in seconds (they are never read back meanwhile). @default 300 */
  purgeInterval?: number
  /** How long a write waits for another process holding the file's write lock, in ms (SQLite's busy timeout). @default 5000 */
  busyTimeout?: number
}

/** A {@link sqliteStore}: a session store with a way to delete expired rows now. */
export interface SqliteStore extends SessionStore {
  readonly kind: 'sqlite'
  open(env: StoreEnv): Promise<void>
  close(): Promise<void>
  /** Delete the expired rows now (a timer does it every `purgeInterval`); returns how many. */
  purge(): Promise<number>
}

interface Row {
  data: string
  expires: number
}

interface Statements {
  get: BetterSqlite3.Statement<[string, number], Row>
  put: BetterSqlite3.Statement<[string, string, number]>
  del: BetterSqlite3.Statement<[string]>
  touch: BetterSqlite3.Statement<[number, string, number]>
  purge: BetterSqlite3.Statement<[number]>
  apply: (id: string, patch: SessionPatch, set: ReadonlyArray<readonly [string, unknown]>, ttl: number) => void
}

const TABLE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Sessions in an SQLite file (better-sqlite3 12, an optional peer: `npm install better-sqlite3@12`):
 * the embedded default for a real site. Sessions survive restarts, and the worker processes of
 * one machine share the file (WAL journal, a busy timeout, every write one `BEGIN IMMEDIATE`
 * transaction). Expired rows are never read back and are deleted every `purgeInterval`.
 *
 * @example
 * app.use(session({ store: sqliteStore({ path: 'data/sessions.db' }), maxAge: '14d', idleTimeout: '2d' }))
 */
export function sqliteStore(options: SqliteStoreOptions = {}): SqliteStore {
  const file = options.path ?? 'data/sessions.db'
  const table = options.table ?? 'carafe_sessions'
  if (typeof file !== 'string' || file === '') throw new TypeError('sqliteStore: path must be a file name (or \':memory:\')')
  if (!TABLE_RE.test(table)) throw new TypeError(`sqliteStore: table ${JSON.stringify(table)} must be a plain SQL name (letters, digits, _)`)
  const purgeMs = (options.purgeInterval ?? 300) * 1000
  const busyTimeout = options.busyTimeout ?? 5000
  if (!(purgeMs > 0)) throw new TypeError('sqliteStore: purgeInterval must be more than 0 seconds')
  let db: BetterSqlite3.Database | null = null
  let st: Statements | null = null
  let timer: NodeJS.Timeout | null = null
  let where = file

  const ready = (): Statements => {
    if (st === null) throw new CarafeError('ERR_STORE_NOT_OPEN', 'sqliteStore() was used before open() (session() opens it at startup) or after close()')
    return st
  }
  /** Driver trouble (a locked or full disk, a closed file) is a SessionStoreError: the middleware answers 503. */
  const run = <T>(what: string, fn: (s: Statements) => T): Promise<T> => {
    try {
      return Promise.resolve(fn(ready()))
    } catch (e) {
      if (e instanceof TypeError || e instanceof CarafeError) return Promise.reject(e)
      return Promise.reject(new SessionStoreError(`sqliteStore (${where}): ${what} failed: ${(e as Error).message}`, { cause: e }))
    }
  }
  const purge = (s: Statements): number => s.purge.run(Date.now()).changes

  return {
    kind: 'sqlite',
    async open(env: StoreEnv) {
      if (db !== null) return
      const Database = requirePeer<typeof BetterSqlite3>('better-sqlite3', 'better-sqlite3@12', 'sqliteStore()')
      where = file === ':memory:' ? file : path.resolve(env.root, file)
      let conn: BetterSqlite3.Database | undefined
      try {
        if (file !== ':memory:') mkdirSync(path.dirname(where), { recursive: true })
        conn = await openSqlite(Database, where, busyTimeout, (c) => {
          // WAL: readers never wait for the writer, and workers share the file safely.
          // synchronous=NORMAL is durable in WAL mode except for the last commits on power loss.
          c.pragma('journal_mode = WAL')
          c.pragma('synchronous = NORMAL')
          c.exec(`CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS "${table}_expires" ON "${table}" (expires);`)
        })
        st = prepare(conn, table)
        purge(st)
      } catch (e) {
        conn?.close()
        st = null
        throw new SessionStoreError(`sqliteStore: cannot open ${where}: ${(e as Error).message}`, { cause: e })
      }
      db = conn
      timer = setInterval(() => {
        try {
          if (st !== null) purge(st)
        } catch (e) {
          // A busy file now is a purge on the next tick; never a crash.
          if (!(e instanceof Error && /SQLITE_BUSY|locked/i.test(e.message))) console.error(`[carafe] sqliteStore (${where}): purging expired sessions failed:`, e)
        }
      }, purgeMs)
      timer.unref()
    },
    get(id) {
      return run('reading a session', (s) => {
        const row = s.get.get(id, Date.now())
        return row === undefined ? undefined : decode(row)
      })
    },
    apply(id, patch, ttl) {
      return run('saving a session', (s) => {
        // Serialize first: a value JSON cannot carry fails before anything changes.
        const set = patch.set === undefined ? [] : Object.entries(patch.set)
        for (const [k, v] of set) toJson(k, v)
        s.apply(id, patch, set, ttl)
      })
    },
    destroy(id) {
      return run('deleting a session', (s) => { s.del.run(id) })
    },
    touch(id, ttl) {
      return run('touching a session', (s) => {
        const now = Date.now()
        s.touch.run(now + Math.round(ttl * 1000), id, now)
      })
    },
    purge() {
      return run('purging expired sessions', purge)
    },
    async close() {
      if (timer !== null) clearInterval(timer)
      timer = null
      st = null
      const conn = db
      db = null
      conn?.close()
    },
  }
}

function prepare(db: BetterSqlite3.Database, table: string): Statements {
  const get = db.prepare<[string, number], Row>(`SELECT data, expires FROM "${table}" WHERE id = ? AND expires > ?`)
  const put = db.prepare<[string, string, number]>(`INSERT INTO "${table}" (id, data, expires) VALUES (?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires = excluded.expires`)
  const del = db.prepare<[string]>(`DELETE FROM "${table}" WHERE id = ?`)
  const touch = db.prepare<[number, string, number]>(`UPDATE "${table}" SET expires = ? WHERE id = ? AND expires > ?`)
  const purge = db.prepare<[number]>(`DELETE FROM "${table}" WHERE expires <= ?`)
  // Read, merge and write in one BEGIN IMMEDIATE transaction: it takes the write lock before
  // reading, so two processes patching one session (different keys) never lose a change.
  const apply = db.transaction((id: string, patch: SessionPatch, set: ReadonlyArray<readonly [string, unknown]>, ttl: number): void => {
    const now = Date.now()
    const row = get.get(id, now)
    if (row === undefined && patch.create !== true) return
    const data = row === undefined ? {} : parseData(row.data) ?? {}
    for (const k of patch.delete ?? []) delete data[k]
    for (const [k, v] of set) putValue(data, k, v)
    put.run(id, JSON.stringify(data), now + Math.round(ttl * 1000))
  })
  return { get, put, del, touch, purge, apply: (id, patch, set, ttl) => apply.immediate(id, patch, set, ttl) }
}

function decode(row: Row): StoredSession | undefined {
  const data = parseData(row.data)
  // A row that is not a JSON object was not written by this store: no session.
  return data === undefined ? undefined : { data, expires: row.expires }
}

function parseData(text: string): SessionRecord | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as SessionRecord) : undefined
  } catch {
    return undefined
  }
}
