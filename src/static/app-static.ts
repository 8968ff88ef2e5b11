import path from 'node:path'
import type { Context, Respondable } from '../core/context.js'
import { CarafeError } from '../core/errors.js'
import { LazyEngine } from './lazy-engine.js'
import { prefixSegments } from '../router/canonical.js'
import type { StaticOptions } from './options.js'

/** Flask's `static_folder` / `static_url_path`, as the `static` option of `new Carafe()`. */
export interface StaticFolderOptions extends StaticOptions {
  /** The folder; a relative path resolves against the app's root folder. */
  dir: string
  /** URL prefix the files are served under; `''` serves them at the top. @default '/' + the folder's name, as Flask does */
  prefix?: string
}

/** What registering static routes needs from the app (kept structural so this file never imports the app). */
interface RouteHost {
  readonly root: string
  all(pattern: string, handler: (c: Context<any>) => unknown, options?: { name?: string }): unknown
}

/**
 * Register the routes that serve `dir` under `prefix` (`prefix`, `prefix/` and
 * `prefix/<path:filename>`, for every method: the engine answers 405 itself, before
 * touching the disk); return the engine and the prefix without its trailing slash. Routes
 * declared by the app win over these, since a static segment is always tried before a
 * `<path:…>` parameter.
 */
export function addStaticRoutes(app: RouteHost, prefix: string, dir: string, options: StaticOptions = {}, name?: string): { engine: LazyEngine; prefix: string } {
  const p = prefix.replace(/\/+$/, '')
  if (p !== '' && !p.startsWith('/')) throw new CarafeError('ERR_STATIC_PREFIX', `static prefix ${JSON.stringify(prefix)} must start with "/" (or be "" to serve files at the top)`)
  const engine = new LazyEngine(path.resolve(app.root, dir), options)
  if (p !== '') app.all(p, (c) => engine.serve(c, ''))
  app.all(`${p}/`, (c) => engine.serve(c, '/'))
  // The engine answers from the canonical segments after the prefix (decoded once, by the
  // door), so a guard on `${p}/private` and the file lookup can never disagree.
  const count = prefixSegments(p === '' ? '/' : p).length
  app.all(`${p}/<path:filename>`, (c) => engine.serveSegments(c, c.pathSegments(count)), name === undefined ? {} : { name })
  return { engine, prefix: p }
}

/**
 * Set up Flask's static folder from the `static` option: like `app.static()`, but with
 * Flask's behaviour for folders (404: no index file, no listing, no redirect) unless asked,
 * and the file route named `static`, so `app.url('static', { filename: 'app.css' })` works.
 */
export function addStaticFolder(app: RouteHost, options: StaticFolderOptions): { engine: LazyEngine; prefix: string } {
  const { dir, prefix, ...rest } = options
  const urlPath = prefix ?? `/${path.basename(path.resolve(app.root, dir))}`
  return addStaticRoutes(app, urlPath, dir, { index: false, listing: false, redirect: false, ...rest }, 'static')
}

/**
 * The URL of the file `file` under the static prefix `prefix` (no trailing slash): each
 * segment percent-encoded, `/` kept, so `static('img/나의 사진.png')` is a working link.
 */
export function staticUrl(prefix: string, file: string): string {
  // The usual name (letters, digits, `-._~/`, no leading slash) needs no encoding: a template
  // calls this once per link, twenty times for a list page.
  if (PLAIN_PATH.test(file)) return `${prefix}/${file}`
  const rel = file.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')
  return `${prefix}/${rel}`
}

const PLAIN_PATH = /^[A-Za-z0-9._~-][A-Za-z0-9._~/-]*$/

/** Flask's `send_static_file`: the file `name` from the app's static folder. */
export function sendStaticFile(engine: LazyEngine | null, name: string): Respondable {
  if (engine === null) {
    throw new CarafeError('ERR_NO_STATIC_FOLDER', 'this app has no static folder; create it with new Carafe({ static: { dir: "static" } })')
  }
  return { respond: (c: Context<any>) => engine.sendFile(c, name) }
}
