import type { TestContext } from 'node:test'
import { connect } from 'node:net'

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
