import path from 'node:path'
import { encodeLocation, HTML, type Context } from '../core/context.js'
import { HttpError } from '../core/errors.js'
import { etagListMatches } from './conditional.js'
import { FileCache, type DirEntry, type Entry } from './file-cache.js'
import { isInside } from './stamp.js'
import { probesCurrent, readListing, renderListing, sameItems, type FolderRead } from './listing.js'
import { resolveStaticOptions, type ResolvedStaticOptions, type StaticOptions } from './options.js'
import { toSafePath, toSafeSegments, type SafePath } from './safe-path.js'
import { canonicalPath, segmentsOf } from '../router/canonical.js'
import { sendEntry, setHeaders, type SendOverrides } from './send.js'

const ALLOW = 'GET, HEAD, OPTIONS'

/**
 * The static file engine behind `carafe serve`, `app.static()`, `staticFile()` and
 * `sendStaticFile()`: safe paths, a revalidated in-memory cache, conditional and range
 * requests, precompressed and on-the-fly compressed copies, folder redirects, index files
 * and listings.
 *
 * @example
 * const files = new StaticEngine('./public', { listing: true })
 * app.notFound((c) => files.serveSegments(c, c.pathSegments()))
 */
export class StaticEngine {
  /** The absolute root folder. */
  readonly root: string
  readonly options: ResolvedStaticOptions
  readonly #cache: FileCache

  constructor(root: string, options?: StaticOptions) {
    this.root = path.resolve(root)
    this.options = resolveStaticOptions(options)
    this.#cache = new FileCache(this.root, this.options)
  }

  /**
   * Start the work every first request needs (resolving the root's real path, which also
   * starts libuv's thread pool), so it overlaps the rest of start-up instead of delaying
   * the first answer.
   */
  warm(): void {
    void this.#cache.realRoot()
  }

  /** Entries and bytes in the cache (for tests and diagnostics). */
  get cacheStats(): { entries: number; bytes: number } {
    return this.#cache.stats
  }

  /**
   * Answer a request for the raw (percent-encoded) URL path `rawPath`, relative to the
   * root. It is canonicalized as the doors do it (router/canonical.ts), then served like
   * {@link serveSegments}; inside an app, prefer `serveSegments(c, c.pathSegments())`,
   * which reuses the request's own canonical path.
   */
  serveRaw(c: Context<any>, rawPath: string): void | Promise<void> {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return this.#otherMethod(c)
    const canon = canonicalPath(rawPath.startsWith('/') ? rawPath : `/${rawPath}`)
    if (canon.error !== null) throw canon.error
    return this.serveSegments(c, segmentsOf(canon))
  }

  /**
   * Answer a request for the decoded path segments `segments` under the root (what
   * `c.pathSegments()` gives: `['']` is the root, a last `''` asks for a folder). A segment
   * holding a `/`, `\` or NUL (sent percent-encoded) names no file: 404.
   */
  serveSegments(c: Context<any>, segments: readonly string[]): void | Promise<void> {
    const method = c.req.method
    if (method !== 'GET' && method !== 'HEAD') return this.#otherMethod(c)
    const n = segments.length
    return this.#serveSafe(c, toSafeSegments(segments, this.options), n !== 0 && segments[n - 1] === '')
  }

  /**
   * Answer a request for the decoded path `rel` under the root (`''` or `/` is the root
   * itself; a trailing `/` asks for a folder). Only GET and HEAD touch the filesystem.
   */
  serve(c: Context<any>, rel: string): void | Promise<void> {
    const method = c.req.method
    if (method !== 'GET' && method !== 'HEAD') return this.#otherMethod(c)
    return this.#serveSafe(c, toSafePath(rel, this.options), rel.endsWith('/'))
  }

  #serveSafe(c: Context<any>, safe: SafePath, slash: boolean): void | Promise<void> {
    if (!safe.ok) throw this.#error(safe.status, safe.status === 400 ? 'bad request path' : 'file not found')
    return this.#cache.lookup(safe.key, safe.segments).then((e) =>
      e === null ? this.#missing(c) : this.#answer(c, safe.key, safe.segments, e, slash))
  }

  /**
   * Send the file `name` (relative to the root) whatever the request path: what
   * `staticFile()` and `sendStaticFile()` do. Folders and hidden or missing files are 404.
   */
  sendFile(c: Context<any>, name: string, over?: SendOverrides): void | Promise<void> {
    const safe = toSafePath(name, this.options)
    if (!safe.ok || safe.segments.length === 0) throw this.#error(404, 'file not found')
    const send = (e: Entry | null): void | Promise<void> => {
      if (e === null || e.kind !== 'file') throw this.#error(404, 'file not found')
      return sendEntry(c, this.#cache, safe.key, e, over)
    }
    return this.#cache.lookup(safe.key, safe.segments).then(send)
  }

  #answer(c: Context<any>, key: string, segments: readonly string[], e: Entry, slash: boolean): void | Promise<void> {
    if (e.kind === 'file') {
      // `/file.txt/` names a folder that is not there (Python's http.server answers 404 too).
      if (slash) throw this.#error(404, 'file not found')
      return sendEntry(c, this.#cache, key, e)
    }
    if (!slash) {
      if (!this.options.redirect) throw this.#error(404, 'file not found')
      return this.#redirectToSlash(c)
    }
    if (e.index !== null) {
      const indexKey = key === '' ? e.index : `${key}/${e.index}`
      const send = (f: Entry | null): void | Promise<void> =>
        f !== null && f.kind === 'file' ? sendEntry(c, this.#cache, indexKey, f) : this.#listingOr404(c, key, e)
      return this.#cache.lookup(indexKey, [...segments, e.index]).then(send)
    }
    return this.#listingOr404(c, key, e)
  }

  #listingOr404(c: Context<any>, key: string, e: DirEntry): void | Promise<void> {
    if (!this.options.listing) throw this.#error(404, 'file not found')
    const urlPath = c.req.canonical.text
    const l = e.listing
    if (l !== null && l.urlPath === urlPath && this.#current(e, l)) return this.#sendListing(c, e)
    // A read already running may have passed a file before it was edited: wait for it, then check again.
    if (e.reading !== null) return e.reading.then(() => this.#listingOr404(c, key, e))
    const round = e.checked.round
    e.reading = this.#readNow(e).then((read) => {
      const old = e.listing
      if (old === null || old.urlPath !== urlPath || !sameItems(old.items, read.items)) this.#render(key, e, urlPath, read, round)
      else e.listing = { ...old, probes: read.probes, verified: round }
    }).finally(() => { e.reading = null })
    return e.reading.then(() => this.#sendListing(c, e))
  }

  /**
   * Is the rendered listing still what the folder holds? The folder's own stamp was just
   * confirmed by the cache (names added, removed or renamed change it), but a file edited in
   * place changes only its own stamp: so each entry is `stat`ed again, once per round of the
   * cache's `stat`s (the requests of one event-loop turn share it, and every one of them
   * arrived before that round began, so none is answered with a listing older than itself).
   */
  #current(e: DirEntry, l: NonNullable<DirEntry['listing']>): boolean {
    const round = e.checked.round
    if (l.verified === round) return true
    if (!probesCurrent(l.probes)) return false
    e.listing = { ...l, verified: round }
    return true
  }

  async #readNow(e: DirEntry): Promise<FolderRead> {
    const root = await this.#cache.realRoot()
    const follow = this.options.followSymlinks
    try {
      return await readListing(e.abs, { dotfiles: this.options.dotfiles, allowed: (real) => follow || isInside(real, root) })
    } catch {
      // Python's http.server answers an unreadable folder the same way.
      throw this.#error(404, 'no permission to list this folder')
    }
  }

  #render(key: string, e: DirEntry, urlPath: string, read: FolderRead, round: number): void {
    const text = renderListing(urlPath, read.items, key === '')
    const html = Buffer.from(text)
    const etag = `W/"${hash53(text).toString(36)}-${html.byteLength.toString(36)}"`
    this.#cache.account(key, html.byteLength - (e.listing?.html.byteLength ?? 0))
    e.listing = { urlPath, items: read.items, probes: read.probes, verified: round, html, etag }
  }

  #sendListing(c: Context<any>, e: DirEntry): void {
    const l = e.listing!
    c.header('cache-control', 'no-cache')
    if (this.options.cors) c.header('access-control-allow-origin', '*')
    c.header('etag', l.etag)
    const inm = c.req.header('if-none-match')
    if (inm !== undefined && etagListMatches(inm, l.etag, true)) {
      c.body(null, 304)
      return
    }
    c.header('content-length', l.html.byteLength)
    c.body(l.html, 200, HTML)
  }

  /**
   * The 301 a folder without its trailing slash gets (query kept), as Python's http.server
   * and Apache do. The threat is an open redirect: `//evil.example/x` sent as is would be a
   * scheme-relative URL to another host. So the location always starts with exactly one
   * `/`, and `\`, controls and quotes are percent-encoded (no header injection either).
   */
  #redirectToSlash(c: Context<any>): void {
    const q = c.req.rawQuery
    c.header('location', encodeLocation(`${c.req.path.replace(/^\/+/, '/')}/${q === '' ? '' : `?${q}`}`))
    if (this.options.cors) c.header('access-control-allow-origin', '*')
    c.header('content-length', 0)
    c.body(null, 301)
  }

  /** Nothing at that path: the single-page app's page for HTML requests, else 404. */
  #missing(c: Context<any>): void | Promise<void> {
    const spa = this.options.spa
    if (spa !== null && (c.req.header('accept') ?? '').includes('text/html')) return this.sendFile(c, spa)
    throw this.#error(404, 'file not found')
  }

  /** OPTIONS is answered (with CORS preflight headers when enabled); every other method is a 405, before any file is looked at. */
  #otherMethod(c: Context<any>): void {
    if (c.req.method === 'OPTIONS') {
      c.header('allow', ALLOW)
      if (this.options.cors) {
        setHeaders(c, ['access-control-allow-origin', '*', 'access-control-allow-methods', ALLOW, 'access-control-max-age', '86400'])
        const asked = c.req.header('access-control-request-headers')
        if (asked !== undefined && /^[\w\s,-]*$/.test(asked)) c.header('access-control-allow-headers', asked)
      }
      c.header('content-length', 0)
      c.body(null, 204)
      return
    }
    throw new HttpError(405, `${c.req.method} is not allowed here; files answer ${ALLOW}`, { headers: this.#errorHeaders({ allow: ALLOW }) })
  }

  /** An error that never names a filesystem path. */
  #error(status: number, message: string): HttpError {
    return new HttpError(status, message, { headers: this.#errorHeaders({}) })
  }

  #errorHeaders(h: Record<string, string>): Record<string, string> {
    if (this.options.cors) h['access-control-allow-origin'] = '*'
    return h
  }
}

/**
 * A fast 53-bit string hash (cyrb53) for listing ETags: node:crypto would cost 20 ms of
 * startup for `carafe serve`, and a validator needs no cryptographic strength.
 */
function hash53(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}
