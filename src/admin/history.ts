import type { DatabaseDialect } from '../db/database.js'
import type { DynamicDb } from './introspect.js'

/** One row of the change history. */
export interface HistoryEntry {
  id: number
  at: string
  user_id: string | null
  table_name: string
  row_id: string
  action: 'create' | 'update' | 'delete'
  /** JSON: `{ column: [before, after] }` (create: before is null; delete: after is null). */
  changes: string
}

/** A change, as the pages show it. */
export interface HistoryView extends Omit<HistoryEntry, 'changes'> {
  changes: Array<{ field: string; before: unknown; after: unknown }>
}

/** Field changes, before and after. */
export type Changes = Record<string, [before: unknown, after: unknown]>

/**
 * The admin's change log (Django's `LogEntry`): who (the user id), what (table, row,
 * action, changed fields), when (an ISO timestamp). The table is made on first use.
 */
export class History {
  readonly table: string
  readonly #dialect: DatabaseDialect
  #ready: Promise<void> | null = null

  constructor(table: string, dialect: DatabaseDialect) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) throw new TypeError(`admin(): historyTable ${JSON.stringify(table)} must be a plain SQL name (letters, digits, _)`)
    this.table = table
    this.#dialect = dialect
  }

  /** Create the table when it is missing (once per process; retried after a failure). */
  ensure(db: DynamicDb): Promise<void> {
    this.#ready ??= this.#create(db).catch((e: unknown) => {
      this.#ready = null
      throw e
    })
    return this.#ready
  }

  async #create(db: DynamicDb): Promise<void> {
    let b = db.schema.createTable(this.table).ifNotExists()
    b = this.#dialect === 'postgres'
      ? b.addColumn('id', 'serial', (c) => c.primaryKey())
      : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    await b
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)')
      .addColumn('table_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('row_id', 'varchar(500)', (c) => c.notNull())
      .addColumn('action', 'varchar(16)', (c) => c.notNull())
      .addColumn('changes', 'text', (c) => c.notNull())
      .execute()
    await db.schema.createIndex(`${this.table}_row`).ifNotExists().on(this.table).columns(['table_name', 'row_id']).execute()
      // MariaDB has no "create index if not exists" before 10.1.4 in every mode: the table is there, which is what matters.
      .catch(() => undefined)
  }

  /** Record a change (inside the transaction that made it, so both or neither are kept). */
  async record(db: DynamicDb, entry: { user: string | null; table: string; row: string; action: HistoryEntry['action']; changes: Changes }): Promise<void> {
    await db.insertInto(this.table).values({
      at: new Date().toISOString(), user_id: entry.user, table_name: entry.table, row_id: entry.row, action: entry.action,
      changes: JSON.stringify(entry.changes, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? String(v) : v)),
    }).execute()
  }

  /** The newest entries, for one row or for the given tables. */
  async recent(db: DynamicDb, where: { table: string; row: string } | { tables: readonly string[] }, limit = 20): Promise<HistoryView[]> {
    let q = db.selectFrom(this.table).selectAll()
    q = 'row' in where ? q.where('table_name', '=', where.table).where('row_id', '=', where.row) : q.where('table_name', 'in', where.tables.length === 0 ? [''] : [...where.tables])
    const rows = (await q.orderBy('id', 'desc').limit(limit).execute()) as HistoryEntry[]
    return rows.map((r) => ({ ...r, id: Number(r.id), changes: parseChanges(r.changes) }))
  }
}

function parseChanges(json: string): HistoryView['changes'] {
  try {
    const v = JSON.parse(json) as Changes
    return Object.entries(v).map(([field, [before, after]]) => ({ field, before, after }))
  } catch {
    return []
  }
}
