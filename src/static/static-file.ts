import path from 'node:path'
import type { Context, Respondable } from '../core/context.js'
import { LazyEngine } from './lazy-engine.js'
import type { StaticOptions } from './options.js'
import { attachment } from './send.js'

/** Options for {@link staticFile}: where the file is, how to send it, and the engine's options. */
export interface StaticFileOptions extends StaticOptions {
  /** Folder the file name is relative to; a relative root resolves against the app's root folder. @default '.' */
  root?: string
  /** Override the `Content-Type`. @default from the file extension */
  type?: string
  /** Send as a download (`Content-Disposition: attachment`): `true` keeps the file's own name, a string names it. @default false */
  download?: boolean | string
}

/** One engine (and so one cache) per root and options, shared by every `staticFile()` call that names them. */
const ENGINES = new Map<string, LazyEngine>()
const MAX_ENGINES = 64

/** The shared engine for `root` with `options`. */
export function engineFor(root: string, options: StaticOptions): LazyEngine {
  const key = `${root}\0${JSON.stringify(options)}`
  let engine = ENGINES.get(key)
  if (engine === undefined) {
    engine = new LazyEngine(root, options)
    // Roots computed per request (unusual) must not grow the table without bound.
    if (ENGINES.size < MAX_ENGINES) ENGINES.set(key, engine)
  }
  return engine
}

/**
 * Bottle's `static_file`: answer with the file `name` under `root`, with everything the
 * static engine does (ETag and Last-Modified with 304, Range with 206, precompressed
 * siblings, the in-memory cache). A name that would leave the root, a hidden file, a
 * folder or a missing file is a 404.
 *
 * @example
 * route('/', () => staticFile('my_saying_homepage.html', { root: '.' }))
 * route('/download/<path:name>', ({ params }) => staticFile(params.name, { root: 'files', download: true }))
 */
export function staticFile(name: string, options: StaticFileOptions = {}): Respondable {
  return new StaticFileResponse(name, options)
}

/** What {@link staticFile} returns: asked to respond once the handler is done. */
class StaticFileResponse implements Respondable {
  readonly #name: string
  readonly #options: StaticFileOptions

  constructor(name: string, options: StaticFileOptions) {
    this.#name = name
    this.#options = options
  }

  respond(c: Context<any>): void | Promise<void> {
    const { root = '.', type, download, ...engineOptions } = this.#options
    const engine = engineFor(path.resolve(c.root, root), engineOptions)
    const disposition = download === undefined || download === false ? undefined : attachment(download === true ? path.basename(this.#name) : download)
    return engine.sendFile(c, this.#name, { type, disposition })
  }
}
