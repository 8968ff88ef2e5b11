import type BetterSqlite3 from 'better-sqlite3'

/**
 * Open a better-sqlite3 connection and run `setup` on it (pragmas, tables), trying again
 * while another process holds the file in a way SQLite reports at once instead of through
 * the busy timeout: two processes opening a brand-new file together, where one is switching
 * it to WAL, make the other's `journal_mode` or first statement fail with "database is locked"
 * (SQLITE_BUSY) without waiting. Gives up after `timeout` ms with the last error.
 */
export async function openSqlite(Database: typeof BetterSqlite3, file: string, timeout: number, setup: (conn: BetterSqlite3.Database) => void): Promise<BetterSqlite3.Database> {
  const deadline = Date.now() + timeout
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    let conn: BetterSqlite3.Database | undefined
    try {
      conn = new Database(file, { timeout })
      setup(conn)
      return conn
    } catch (e) {
      conn?.close()
      const code = (e as { code?: unknown }).code
      const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY')
      if (!busy || Date.now() + wait > deadline) throw e
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}
