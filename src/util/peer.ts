import { createRequire } from 'node:module'
import path from 'node:path'
import { CarafeError } from '../core/errors.js'

const require = createRequire(import.meta.url)

/**
 * The app's own `require`, for peers Carafe's folder does not see: a Carafe linked into the
 * app (a `file:` dependency, as `carafe new` writes, or `npm link`) resolves from its real
 * folder, outside the app's node_modules where the app installed the drivers.
 */
function appRequire(): NodeJS.Require {
  const file = process.env.CARAFE_APP_FILE
  const dir = file !== undefined && file !== '' ? path.dirname(path.resolve(file)) : process.cwd()
  return createRequire(path.join(dir, 'noop.js'))
}

/** `require(name)` from Carafe's folder, else from the app's. */
function load(name: string): unknown {
  try {
    return require(name)
  } catch (e) {
    if (!isMissing(e, name)) throw e
    return appRequire()(name)
  }
}

/** Only the peer itself missing; a missing module *inside* it is a broken install, not this. */
function isMissing(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException
  return err.code === 'MODULE_NOT_FOUND' && err.message.includes(`'${name}'`)
}

/**
 * Load an optional peer dependency (a database driver, a Redis client) when the feature that
 * needs it opens, never at import, so `import 'carafe'` stays light for apps that do not use
 * it. A package that is not installed gives a CarafeError saying what to install, never a
 * bare MODULE_NOT_FOUND; one that is installed but fails to load (a native module built for
 * another Node) says so.
 *
 * @example
 * const Database = requirePeer<typeof import('better-sqlite3')>('better-sqlite3', 'better-sqlite3@12', 'sqliteStore()')
 */
export function requirePeer<T>(name: string, install: string, feature: string): T {
  try {
    return load(name) as T
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (isMissing(e, name)) {
      throw new CarafeError('ERR_MISSING_DEPENDENCY', `${feature} needs the ${name} package, which is not installed: run \`npm install ${install}\` to use ${feature}`)
    }
    throw new CarafeError('ERR_MISSING_DEPENDENCY', `${feature} could not load ${name} (${err.message}); reinstall it with \`npm install ${install}\` (or \`npm rebuild ${name}\` after changing Node versions)`)
  }
}

/**
 * Fail now (at start-up) when `name` is not installed, with the same "npm install X" message
 * as {@link requirePeer}, without loading it (the feature loads it on first use).
 */
export function assertPeerInstalled(name: string, install: string, feature: string): void {
  try {
    require.resolve(name)
  } catch {
    try {
      appRequire().resolve(name)
      return
    } catch {
      // in neither place
    }
    throw new CarafeError('ERR_MISSING_DEPENDENCY', `${feature} needs the ${name} package, which is not installed: run \`npm install ${install}\` to use ${feature}`)
  }
}
