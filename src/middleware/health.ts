import type { Carafe, Plugin } from '../core/app.js'
import type { Context } from '../core/context.js'

/** Options for {@link health}. */
export interface HealthOptions {
  /** Liveness: 200 `{"status":"ok"}` while the process answers at all. @default '/healthz' */
  path?: string
  /** Readiness: 200 once started and every check passes; 503 while starting, draining, or when a check fails. @default '/readyz' */
  readyPath?: string
  /**
   * Readiness checks by name: a function that resolves when its dependency is usable and
   * throws (or rejects) when not. The database of `carafe/db` (`app.plugin('db')`) is checked
   * as `db` without being listed here.
   * @default {}
   */
  checks?: Record<string, () => unknown>
  /** How long one check may take, in ms; a slower one counts as failed. @default 2000 */
  timeout?: number
}

/** The outcome of one readiness check, as `/readyz` reports it. */
type CheckResult = 'ok' | 'failed' | 'timeout'

/** The part of the `carafe/db` plugin readiness uses. */
interface Pingable extends Plugin {
  ping?(): Promise<unknown>
}

/**
 * Health endpoints for load balancers and orchestrators (Kubernetes probes): `/healthz`
 * (alive) and `/readyz` (ready for traffic), as routes, so they cost nothing on other
 * requests. `/readyz` answers 503 with a JSON reason until `app.startup()` has finished,
 * once the server starts draining (so traffic moves elsewhere before it stops), and when a
 * check fails: the app's database (`select 1`), and your own `checks`. Failures are logged
 * through `app.log`; the answer names only the check, never the error.
 *
 * @example
 * app.use(health({ checks: { redis: () => redis.ping() } }))
 */
export function health(options: HealthOptions = {}): Plugin {
  const live = options.path ?? '/healthz'
  const ready = options.readyPath ?? '/readyz'
  const timeout = options.timeout ?? 2000
  const checks = options.checks ?? {}
  return {
    name: 'health',
    install(app, prefix) {
      app.get(`${prefix}${live}`, alive())
      app.get(`${prefix}${ready}`, readiness(app, checks, timeout))
    },
  }
}

function alive(): (c: Context) => unknown {
  return (c) => answer(c, 200, { status: 'ok' })
}

function readiness(app: Carafe, checks: Record<string, () => unknown>, timeout: number): (c: Context) => unknown {
  return async (c) => {
    if (app.draining) return answer(c, 503, { status: 'draining' })
    if (!app.started) return answer(c, 503, { status: 'starting' })
    const all: Record<string, () => unknown> = {}
    const db = app.plugin<Pingable>('db')
    if (db?.ping !== undefined) all.db = () => db.ping!()
    Object.assign(all, checks)
    const names = Object.keys(all)
    const results = await Promise.all(names.map((name) => runCheck(app, name, all[name]!, timeout)))
    const report = Object.fromEntries(names.map((name, i) => [name, results[i]!]))
    if (results.some((r) => r !== 'ok')) return answer(c, 503, { status: 'unavailable', checks: report })
    return answer(c, 200, { status: 'ready', checks: report })
  }
}

async function runCheck(app: Carafe, name: string, check: () => unknown, timeout: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, timeout, 'timeout') })
  try {
    const out = await Promise.race([Promise.resolve().then(check).then(() => 'ok' as const), late])
    if (out === 'timeout') app.log.warn('readiness check timed out', { check: name, timeout })
    return out
  } catch (error) {
    app.log.warn('readiness check failed', { check: name, error })
    return 'failed'
  } finally {
    clearTimeout(timer)
  }
}

function answer(c: Context, status: number, body: Record<string, unknown>): Context {
  // A cached "ready" would keep a draining instance in rotation.
  c.header('cache-control', 'no-store')
  return c.json(body, status)
}
