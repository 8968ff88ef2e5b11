import { existsSync } from 'node:fs'
import path from 'node:path'
import { CarafeError } from '../core/errors.js'
import { resolveSecrets } from '../session/secrets.js'

/**
 * Load `<dir>/.env` into `process.env` when the file is there (what `carafe start` does
 * before it loads the app), with Node's own parser (`process.loadEnvFile`, Node ≥ 20.12).
 * A variable already set wins over the file: the environment the process was started with
 * (a systemd unit, a container's) overrides what is checked in beside the app. Returns the
 * file's path, or `null` when there is none.
 *
 * @example
 * loadDotEnv(appDir) // '/srv/app/.env', or null
 */
export function loadDotEnv(dir: string): string | null {
  const file = path.resolve(dir, '.env')
  if (!existsSync(file)) return null
  const load = (process as { loadEnvFile?: (file: string) => void }).loadEnvFile
  if (typeof load !== 'function') {
    throw new CarafeError('ERR_NODE_VERSION', `${file} cannot be loaded: reading .env files needs Node 20.12 or later (this is ${process.version}); upgrade Node, or set the variables in the environment and remove the file`)
  }
  // loadEnvFile never replaces a variable that is already set (measured on Node 20.20 and 22).
  load.call(process, file)
  return file
}

/**
 * The app's secrets from `CARAFE_SECRET`, for `carafe start`: production never falls back
 * to the development secret of `carafe run` (`.carafe/secret` on the disk of one machine,
 * so each machine would sign with another key). Throws `ERR_NO_SECRET` when it is missing
 * or empty, `ERR_WEAK_SECRET` when it is too short.
 *
 * @example
 * requireSecret() // before loading the app
 */
export function requireSecret(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const secret = env.CARAFE_SECRET
  if (secret === undefined || secret === '') {
    throw new CarafeError('ERR_NO_SECRET', 'carafe start needs CARAFE_SECRET; make one with `carafe secret` and set it in the environment (or in a .env file beside the app)')
  }
  return resolveSecrets(undefined, { CARAFE_SECRET: secret })
}
