import { CarafeError } from '../core/errors.js'

/**
 * How many worker processes serve this app: `CARAFE_WORKERS`, which `carafe start` sets in
 * each worker; 1 when unset or not a whole number.
 */
export function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CARAFE_WORKERS)
  return Number.isInteger(n) && n > 1 ? n : 1
}

/**
 * Refuse state kept in one process's memory when several workers serve the app: each
 * worker would have its own copy (sessions that vanish when a request reaches another
 * worker, a rate limit each worker grants in full), which looks fine on one machine in
 * development and breaks quietly in production. `what` says what it is and what goes
 * wrong; `instead` names the shared alternative and the explicit opt-out.
 */
export function refusePerProcess(what: string, instead: string, env: NodeJS.ProcessEnv = process.env): void {
  const n = workerCount(env)
  if (n > 1) throw new CarafeError('ERR_PER_PROCESS_STATE', `${what}, but CARAFE_WORKERS=${n} runs ${n} worker processes, each with its own copy. ${instead}`)
}
