/**
 * Database tests that leave nothing behind: each runs inside one transaction that is rolled
 * back at the end, and while it runs `c.db` (and `db.kysely`, `db.transaction()`) in the app
 * under test is that transaction, so rows a request writes are seen by the next request and by
 * the test, and are gone afterwards. Works on SQLite, PostgreSQL and MariaDB (tables made
 * beforehand: MariaDB commits on DDL).
 */
import type { Transaction } from 'kysely'
import { CarafeError } from '../core/errors.js'
import type { Database } from '../db/database.js'

/** A test context that can run code when the test ends (node:test's `t`). */
export interface AfterHook {
  after(fn: () => unknown): void
}

/**
 * Begin a transaction on `db`, make the app's `c.db` use it, and return it; `rollback()` undoes
 * everything and puts `db` back. Prefer {@link withRollback} or {@link rollbackAfter}.
 */
export async function beginRollback<DB>(db: Database<DB>): Promise<{ tx: Transaction<DB>; rollback(): Promise<void> }> {
  if (db.pinned !== null) throw new CarafeError('ERR_DB_PINNED', 'withRollback(): this database already runs inside a test transaction; nest with db.transaction() (a savepoint) instead')
  const tx = await db.kysely.startTransaction().execute()
  db.pin(tx)
  let done = false
  return {
    tx,
    async rollback() {
      if (done) return
      done = true
      db.pin(null)
      await tx.rollback().execute()
    },
  }
}

/**
 * Run `fn` inside a transaction that is always rolled back; meanwhile the app's `c.db` is that
 * transaction. Send requests one after another inside it (they share one connection); each
 * request runs in its own savepoint, so one that fails (a 409, say) spoils nothing for the
 * next, and `db.transaction()` in a handler becomes a savepoint too.
 *
 * @example
 * it('creates a note', () => withRollback(db, async (tx) => {
 *   const res = await client.post('/notes', { json: { title: 'hi' } })
 *   assert.equal(res.status, 201)
 *   assert.equal((await tx.selectFrom('notes').selectAll().execute()).length, 1)
 * }))   // the note is gone here
 */
export async function withRollback<DB, T>(db: Database<DB>, fn: (tx: Transaction<DB>) => Promise<T>): Promise<T> {
  const { tx, rollback } = await beginRollback(db)
  try {
    return await fn(tx)
  } finally {
    await rollback()
  }
}

/**
 * The same for node:test without a wrapper function: begin the transaction now, roll it back
 * when the test `t` ends.
 *
 * @example
 * it('creates a note', async (t) => {
 *   const tx = await rollbackAfter(t, db)
 *   …
 * })
 */
export async function rollbackAfter<DB>(t: AfterHook, db: Database<DB>): Promise<Transaction<DB>> {
  const { tx, rollback } = await beginRollback(db)
  t.after(rollback)
  return tx
}
