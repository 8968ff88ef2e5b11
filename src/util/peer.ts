import { createRequire } from 'node:module'
import { CarafeError } from '../core/errors.js'

const require = createRequire(import.meta.url)

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
    return require(name) as T
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    // Only the peer itself missing; a missing module *inside* it is a broken install, not this.
    if (err.code === 'MODULE_NOT_FOUND' && err.message.includes(`'${name}'`)) {
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
    throw new CarafeError('ERR_MISSING_DEPENDENCY', `${feature} needs the ${name} package, which is not installed: run \`npm install ${install}\` to use ${feature}`)
  }
}
