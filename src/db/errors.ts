import { HttpError, isHttpError } from '../core/errors.js'

/** Error codes by meaning, for the three engines (SQLite via better-sqlite3, PostgreSQL via pg, MariaDB via mysql2). */
const UNIQUE = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505', 'ER_DUP_ENTRY', 'ER_DUP_KEY'])
const FOREIGN_KEY = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503', 'ER_NO_REFERENCED_ROW', 'ER_NO_REFERENCED_ROW_2', 'ER_ROW_IS_REFERENCED', 'ER_ROW_IS_REFERENCED_2'])
const NOT_NULL = new Set(['SQLITE_CONSTRAINT_NOTNULL', '23502', 'ER_BAD_NULL_ERROR'])
const CHECK = new Set(['SQLITE_CONSTRAINT_CHECK', '23514', 'ER_CHECK_CONSTRAINT_VIOLATED'])
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE',
  'ERR_POOL_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_IOERR',
])

/** What kind of database error `e` is, or `undefined` for anything else. */
export function dbErrorKind(e: unknown): 'not-found' | 'unique' | 'foreign-key' | 'not-null' | 'check' | 'unavailable' | undefined {
  if (typeof e !== 'object' || e === null) return undefined
  const err = e as { name?: unknown; code?: unknown; errno?: unknown; message?: unknown; errors?: unknown }
  // Kysely's NoResultError (executeTakeFirstOrThrow) keeps the name "Error": go by its class.
  if (err.name === 'NoResultError' || (e as object).constructor?.name === 'NoResultError') return 'not-found'
  const code = typeof err.code === 'string' ? err.code : undefined
  const message = typeof err.message === 'string' ? err.message : ''
  // MariaDB's CHECK failure is errno 4025 (ER_CONSTRAINT_FAILED), a number MySQL uses for
  // something else, so mysql2 names it by MySQL's table (ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE).
  if (err.errno === 4025 && message.startsWith('CONSTRAINT ')) return 'check'
  if (code !== undefined) {
    if (UNIQUE.has(code)) return 'unique'
    if (FOREIGN_KEY.has(code)) return 'foreign-key'
    if (NOT_NULL.has(code)) return 'not-null'
    if (CHECK.has(code)) return 'check'
    if (UNAVAILABLE.has(code) || code.startsWith('SQLITE_IOERR')) return 'unavailable'
  }
  // pg's pool: "timeout exceeded when trying to connect"; mysql2's: "Queue limit reached", "Pool is closed".
  if (/timeout exceeded when trying to connect|Connection terminated|Queue limit reached|Pool is closed|connect ETIMEDOUT|Client has encountered a connection error/i.test(message)) return 'unavailable'
  // An AggregateError of connection attempts (IPv4 and IPv6 both refused).
  if (Array.isArray(err.errors) && err.errors.length > 0 && err.errors.every((x) => dbErrorKind(x) === 'unavailable')) return 'unavailable'
  return undefined
}

/**
 * A database error as the HTTP answer it stands for: no row → 404; a unique, foreign-key,
 * not-null or check violation → 409 (the request conflicts with what is stored; nothing was
 * changed); a database that is down, a pool that stays full, a locked SQLite file → 503.
 * `undefined` for other errors (they stay 500s). The db plugin hands this to the app.
 */
export function mapDbError(e: unknown): HttpError | undefined {
  if (isHttpError(e)) return undefined
  switch (dbErrorKind(e)) {
    case 'not-found':
      return new HttpError(404, 'nothing here: no such row', { code: 'ERR_NOT_FOUND', cause: e })
    case 'unique':
      return new HttpError(409, 'that conflicts with what is stored: a row with the same unique value already exists', { code: 'ERR_UNIQUE', cause: e })
    case 'foreign-key':
      return new HttpError(409, 'that conflicts with what is stored: it refers to a row that does not exist, or other rows refer to it', { code: 'ERR_FOREIGN_KEY', cause: e })
    case 'not-null':
      return new HttpError(409, 'that conflicts with the table: a required value is missing', { code: 'ERR_NOT_NULL', cause: e })
    case 'check':
      return new HttpError(409, 'that conflicts with the table: a value breaks one of its rules', { code: 'ERR_CHECK', cause: e })
    case 'unavailable':
      console.error('[carafe] the database is unavailable:', (e as Error).message)
      return new HttpError(503, 'the database is unavailable right now; please try again in a moment', { code: 'ERR_DB_UNAVAILABLE', cause: e, headers: { 'retry-after': '5' } })
    default:
      return undefined
  }
}
