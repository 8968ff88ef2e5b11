import type { TestContext } from 'node:test'
import { connect } from 'node:net'
import { createRequire } from 'node:module'

/** The shared services tests may use, on their standard ports (never flushed or stopped by a test). */
export const SERVICES = {
  redis: { host: '127.0.0.1', port: 6379, url: 'redis://127.0.0.1:6379' },
  postgres: { host: '127.0.0.1', port: 5432, url: 'postgres://postgres@127.0.0.1:5432/test' },
  mariadb: { host: '127.0.0.1', port: 3306, url: 'mysql://root@127.0.0.1:3306/test' },
} as const

export type ServiceName = keyof typeof SERVICES

const seen = new Map<ServiceName, Promise<boolean>>()

/** True when something answers on the service's port. */
export function serviceUp(name: ServiceName): Promise<boolean> {
  let p = seen.get(name)
  if (p === undefined) {
    const { host, port } = SERVICES[name]
    p = new Promise((resolve) => {
      const s = connect(port, host)
      const done = (ok: boolean): void => { s.destroy(); resolve(ok) }
      s.setTimeout(1000, () => done(false))
      s.once('connect', () => done(true))
      s.once('error', () => done(false))
    })
    seen.set(name, p)
  }
  return p
}

/**
 * Skip this test, loudly, when `name` is not running; with CARAFE_REQUIRE_SERVICES=1 (CI)
 * fail instead, so a service test can never be skipped there. Returns true when it may run.
 *
 * @example
 * it('shares sessions through Redis', async (t) => { if (!(await needService(t, 'redis'))) return; … })
 */
export async function needService(t: TestContext, name: ServiceName): Promise<boolean> {
  if (await serviceUp(name)) return true
  const { host, port } = SERVICES[name]
  const msg = `${name} is not running on ${host}:${port}`
  if (process.env.CARAFE_REQUIRE_SERVICES === '1') throw new Error(`${msg}, and CARAFE_REQUIRE_SERVICES=1 says this test may not be skipped`)
  console.error(`\n*** SKIPPED: "${t.name}" needs ${msg} ***\n`)
  t.skip(`SKIPPED: needs ${msg}`)
  return false
}

/** A unique name for keys and tables a test makes (and must remove). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
}

/** A PostgreSQL client of the test's own (ended after the test). */
export type PgClient = InstanceType<typeof import('pg').Client>

/**
 * A PostgreSQL schema of this test's own, dropped (with all in it) after the test: its name,
 * a `DATABASE_URL` whose connections use it (`search_path`), and the admin client that made
 * it, for looking into it.
 */
export async function ownPgSchema(t: TestContext, prefix: string): Promise<{ schema: string; url: string; admin: PgClient }> {
  const pg = requireFromHere('pg') as typeof import('pg')
  const schema = uniqueName(prefix)
  const admin = new pg.Client({ connectionString: SERVICES.postgres.url })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  t.after(async () => {
    await admin.query(`drop schema ${schema} cascade`)
    await admin.end()
  })
  return { schema, url: `${SERVICES.postgres.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, admin }
}

/** A Redis key prefix of this test's own: every `<prefix>:*` key is deleted after the test. */
export function ownRedisPrefix(t: TestContext, name: string): string {
  const prefix = uniqueName(name)
  t.after(async () => {
    const { createClient } = requireFromHere('redis') as typeof import('redis')
    const r = createClient({ url: SERVICES.redis.url })
    await r.connect()
    for await (const keys of r.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length > 0) await r.del(keys)
    await r.quit()
  })
  return prefix
}

const requireFromHere = createRequire(import.meta.url)
