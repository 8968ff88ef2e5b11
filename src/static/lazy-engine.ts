import type { Context } from '../core/context.js'
import type { StaticEngine } from './engine.js'
import type { StaticOptions } from './options.js'

type SendFileOptions = Parameters<StaticEngine['sendFile']>[2]

/**
 * A static engine created on first use: the engine and its helpers (caches, listings,
 * compression) cost startup time and idle memory that an app which declares static routes
 * but has not served a file yet should not pay (`import 'carafe'` stays light).
 */
export class LazyEngine {
  readonly root: string
  readonly options: StaticOptions
  #engine: StaticEngine | null = null
  #loading: Promise<StaticEngine> | null = null

  constructor(root: string, options: StaticOptions) {
    this.root = root
    this.options = options
  }

  /** The engine, or a promise of it the first time. */
  get(): StaticEngine | Promise<StaticEngine> {
    if (this.#engine !== null) return this.#engine
    this.#loading ??= import('./engine.js').then((m) => (this.#engine = new m.StaticEngine(this.root, this.options)))
    return this.#loading
  }

  /** `StaticEngine.serve`, once loaded. */
  serve(c: Context<any>, urlPath: string): void | Promise<void> {
    const e = this.#engine ?? this.get()
    return e instanceof Promise ? e.then((engine) => engine.serve(c, urlPath)) : e.serve(c, urlPath)
  }

  /** `StaticEngine.serveSegments`, once loaded. */
  serveSegments(c: Context<any>, segments: readonly string[]): void | Promise<void> {
    const e = this.#engine ?? this.get()
    return e instanceof Promise ? e.then((engine) => engine.serveSegments(c, segments)) : e.serveSegments(c, segments)
  }

  /** `StaticEngine.sendFile`, once loaded. */
  sendFile(c: Context<any>, name: string, options?: SendFileOptions): void | Promise<void> {
    const e = this.#engine ?? this.get()
    return e instanceof Promise ? e.then((engine) => engine.sendFile(c, name, options)) : e.sendFile(c, name, options)
  }
}
