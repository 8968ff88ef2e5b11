import { Carafe } from '../core/app.js'
import { StaticEngine } from './engine.js'
import type { StaticOptions } from './options.js'

/** The options `carafe serve` uses unless told otherwise: Python's index names and a listing. */
export const SERVE_DEFAULTS: Readonly<StaticOptions> = { index: ['index.html', 'index.htm'], listing: true }

/**
 * An app that serves one folder and nothing else: what `carafe serve` runs. It has no
 * routes, so every request goes straight to the engine after one failed map lookup, and
 * the engine sees the request's canonical path (`//x` is `/x`; `/\x` and `/%2Fx` it refuses).
 *
 * @example
 * const { app } = createFolderApp('./public', { spa: true })
 * await app.listen({ port: 8000 })
 */
export function createFolderApp(dir: string, options: StaticOptions = {}): { app: Carafe; engine: StaticEngine } {
  const engine = new StaticEngine(dir, { ...SERVE_DEFAULTS, ...options })
  engine.warm()
  const app = new Carafe({ root: engine.root, templates: false, redirectSlashes: false })
  app.notFound(function serveFiles(c) {
    return engine.serveSegments(c, c.pathSegments())
  })
  return { app, engine }
}
