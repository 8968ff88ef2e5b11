import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cache = new Map<string, unknown>()

/**
 * Load a CommonJS dependency on first use instead of at import. Loading CommonJS from ESM
 * starts Node's CJS loader (milliseconds and megabytes), so libraries needed only by some
 * requests (cookies, content negotiation) must not cost every app its startup time and idle
 * memory.
 *
 * @example
 * const { parse } = lazyRequire<typeof import('cookie')>('cookie')
 */
export function lazyRequire<T>(id: string): T {
  let mod = cache.get(id)
  if (mod === undefined) {
    mod = require(id)
    cache.set(id, mod)
  }
  return mod as T
}
