import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Migration, MigrationResultSet } from 'kysely'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import type { Database } from './database.js'

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** The migrations folder (absolute). */
  dir: string
}

/** The migration files of `dir` (`<timestamp>_<name>.ts` or `.js`), by name, in name order. */
export async function loadMigrations(dir: string): Promise<Record<string, Migration>> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw e
  }
  const out: Record<string, Migration> = {}
  for (const file of names) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Partial<Migration>
    if (typeof mod.up !== 'function') throw new CarafeError('ERR_MIGRATION', `migration ${file} exports no up(db) function`)
    out[file.replace(/\.(ts|mts|js|mjs)$/, '')] = { up: mod.up, down: mod.down }
  }
  return out
}

/** Run the pending migrations of `dir`; throws naming the one that failed and why. */
export async function migrate<DB>(db: Database<DB>, options: MigrateOptions): Promise<MigrationResultSet> {
  const { Migrator } = requirePeer<typeof import('kysely')>('kysely', 'kysely@~0.28', 'carafe/db')
  const migrations = await loadMigrations(options.dir)
  const migrator = new Migrator({ db: db.kysely, provider: { getMigrations: async () => migrations } })
  const result = await migrator.migrateToLatest()
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')
    throw new CarafeError('ERR_MIGRATION', `migration ${failed?.migrationName ?? '(unknown)'} failed: ${(result.error as Error).message ?? String(result.error)}`)
  }
  return result
}
