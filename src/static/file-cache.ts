import type { Stats } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileEtag, httpDate } from './conditional.js'
import { compress, SUFFIX, type Coding } from './encoding.js'
import type { ListingItem, ListingProbes } from './listing.js'
import { LruCache } from './lru.js'
import { contentTypeFor, isCompressible } from './mime.js'
import type { ResolvedStaticOptions } from './options.js'
import { isInside, isRacy, readVersion, sameStamp, stampOf, statNow, type Stamp } from './stamp.js'


/** One representation of a file: as it is, or in a content coding. */
export interface Representation {
  readonly coding: Coding | null
  /** The file to stream when `body` is `null`. */
  readonly path: string
  readonly size: number
  /** The whole content, for files small enough to keep in memory. */
  readonly body: Buffer | null
  readonly etag: string
  /** Response headers of a 200 (a flat name/value list), built once. */
  readonly headers: readonly string[]
  /** For a precompressed sibling: its stamp, checked with the file's before each use. */
  readonly stamp: Stamp | null
  /** `content-type` and {@link headers}: the whole header set of a plain 200, made on first use. */
  withType?: readonly string[]
}

/** A cached file. */
export interface FileEntry {
  readonly kind: 'file'
  readonly abs: string
  readonly stamp: Stamp
  readonly type: string
  readonly lastModified: string
  readonly identity: Representation
  /** Codings offered, best first (precompressed siblings and on-the-fly). */
  readonly codings: readonly Coding[]
  readonly siblings: Partial<Record<Coding, Representation>>
  /** On-the-fly compressed copies, made on first request. */
  readonly compressed: Map<Coding, Representation | Promise<Representation | null>>
  /** The last round of `stat`s that looked at this entry, and whether the file was still this version. */
  readonly checked: Checked
  /** When precompressed siblings were last looked for, or `null` when they are not looked for (not a compressible type). */
  siblingsAt: number | null
}

/** A cached folder: its index file, if any, and its rendered listing once asked for. */
export interface DirEntry {
  readonly kind: 'dir'
  readonly abs: string
  readonly stamp: Stamp
  /** Name of the index file to serve, or `null`. */
  readonly index: string | null
  readonly checked: Checked
  listing: {
    readonly urlPath: string
    readonly items: readonly ListingItem[]
    /** What the entries' `stat`s said when read, to tell an entry edited in place. */
    readonly probes: ListingProbes
    /** The round of `stat`s (see `checked`) in which the entries were last found unchanged. */
    readonly verified: number
    readonly html: Buffer
    readonly etag: string
  } | null
  /** The folder being read for its listing, or `null`. */
  reading: Promise<void> | null
}

/** See {@link FileCache.lookup}. */
interface Checked {
  round: number
  current: boolean
}

/** What the cache holds for a path. */
export type Entry = FileEntry | DirEntry

/**
 * At most this many requests wait for one round of `stat`s (four slots each); a busier turn
 * confirms them in batches. Unbounded batches kept enough request objects alive across
 * scavenges that V8 grew its young generation (+12 MiB of RSS), for no speed.
 */
const MAX_CHECKS = 16 * 4
/** Per-entry bookkeeping cost on top of the bytes it holds. */
const ENTRY_COST = 1024
/** How often a cached file looks for precompressed siblings that appeared or went away. */
const SIBLING_RECHECK_MS = 2000

/**
 * The files of one root, cached: for each, the precomputed response headers and, when
 * small, the content and its compressed copies. Every use revalidates with one `stat`, so
 * an edited file is never served stale; memory is bounded by `cacheSize`.
 */
export class FileCache {
  readonly root: string
  readonly #o: ResolvedStaticOptions
  readonly #lru: LruCache<Entry>
  readonly #building = new Map<string, Promise<Entry | null>>()
  #realRoot: Promise<string> | null = null

  constructor(root: string, options: ResolvedStaticOptions) {
    this.root = root
    this.#o = options
    this.#lru = new LruCache(options.cacheSize, 100_000)
  }

  /**
   * The entry for `key`, current as of a moment after this call: a cached entry is
   * confirmed by one `stat` before the promise settles, else the path is looked up on
   * disk; `null` when there is nothing to serve.
   *
   * The `stat`s are made in batches: at the end of the event-loop turn (a `setImmediate`),
   * or sooner once {@link MAX_CHECKS} requests wait, always after every waiting request was
   * read. A file requested by 16 clients costs one `stat`, not 16, and each answer still
   * reflects the file as it was after its request arrived, so an edited file is never
   * served stale. (One `statSync` per request cost about 3-6 µs of a 30 µs request here.)
   */
  lookup(key: string, segments: readonly string[]): Promise<Entry | null> {
    const e = this.#lru.get(key)
    if (e === undefined) return this.load(key, segments)
    return new Promise((resolve) => {
      if (this.#checks === null) {
        this.#checks = []
        setImmediate(this.#confirm)
      }
      this.#checks.push(key, e, segments, resolve)
      if (this.#checks.length >= MAX_CHECKS) {
        // A full batch (see MAX_CHECKS) is confirmed now, after all of its requests arrived;
        // the rest of the turn fills a new list, for the setImmediate still due.
        const full = this.#checks
        this.#checks = []
        this.#confirmAll(full)
      }
    })
  }

  /** Cached entries waiting for this turn's `stat` (key, entry, segments, resolve; four slots each). */
  #checks: unknown[] | null = null
  #round = 0

  readonly #confirm = (): void => {
    const list = this.#checks!
    this.#checks = null
    this.#confirmAll(list)
  }

  #confirmAll(list: unknown[]): void {
    const round = ++this.#round
    for (let i = 0; i < list.length; i += 4) {
      const key = list[i] as string
      const e = list[i + 1] as Entry
      const resolve = list[i + 3] as (e: Entry | Promise<Entry | null>) => void
      if (e.checked.round !== round) {
        e.checked.round = round
        e.checked.current = isCurrent(e.abs, e.stamp) && (e.kind === 'dir' || siblingsCurrent(e))
        if (!e.checked.current) this.#drop(key, e)
        else if (e.kind === 'file') this.#maybeRecheckSiblings(key, e)
      }
      resolve(e.checked.current ? e : this.load(key, list[i + 2] as readonly string[]))
    }
  }

  /** Drop `key` if it still holds `e` (a newer entry may have replaced it meanwhile). */
  #drop(key: string, e: Entry): void {
    if (this.#lru.peek(key) === e) this.#lru.delete(key)
  }

  #maybeRecheckSiblings(key: string, e: FileEntry): void {
    if (e.siblingsAt === null) return
    const now = Date.now()
    if (now - e.siblingsAt > SIBLING_RECHECK_MS) {
      e.siblingsAt = now
      void this.#recheckSiblings(key, e)
    }
  }

  /**
   * A `file.br` written after `file` was cached does not change `file`'s stamp; look for
   * siblings that came or went now and then, and rebuild the entry when the set changed.
   * (A sibling that changed is caught before each use, by its own stamp.)
   */
  async #recheckSiblings(key: string, e: FileEntry): Promise<void> {
    for (const coding of ['br', 'gzip'] as const) {
      const there = await stat(e.abs + SUFFIX[coding]).then((s) => s.isFile(), () => false)
      if (there !== (e.siblings[coding] !== undefined)) return this.forget(key)
    }
  }

  /** Look `segments` up on disk and cache what is found; `null` when there is nothing to serve. */
  load(key: string, segments: readonly string[]): Promise<Entry | null> {
    let p = this.#building.get(key)
    if (p === undefined) {
      p = this.#build(key, segments).finally(() => this.#building.delete(key))
      this.#building.set(key, p)
    }
    return p
  }

  /** Is this real path one we may serve (inside the real root, unless symlinks may leave it)? */
  async allowed(real: string): Promise<boolean> {
    return this.#o.followSymlinks || isInside(real, await this.realRoot())
  }

  /** The root with its symlinks resolved (once). */
  realRoot(): Promise<string> {
    this.#realRoot ??= realpath(this.root).catch(() => path.resolve(this.root))
    return this.#realRoot
  }

  async #build(key: string, segments: readonly string[]): Promise<Entry | null> {
    const abs = segments.length === 0 ? this.root : path.join(this.root, ...segments)
    let st: Stats
    try {
      st = await stat(abs)
      // The threat: a symlink inside the root pointing at /etc or ~/.ssh. Its real path
      // must stay inside the real root.
      if (!await this.allowed(await realpath(abs))) return null
    } catch {
      return null
    }
    const entry = st.isDirectory() ? await this.#dir(abs, st) : st.isFile() ? await this.#file(abs) : null
    // Fifos, sockets and devices are never opened: reading a fifo would hang.
    if (entry === null) return null
    if (!isRacy(entry.stamp)) this.#lru.set(key, entry, ENTRY_COST + bytesHeld(entry))
    return entry
  }

  async #dir(abs: string, st: Stats): Promise<DirEntry> {
    let index: string | null = null
    for (const name of this.#o.index) {
      const s = await stat(path.join(abs, name)).catch(() => null)
      if (s !== null && s.isFile()) {
        index = name
        break
      }
    }
    return { kind: 'dir', abs, stamp: stampOf(st), index, checked: { round: 0, current: true }, listing: null, reading: null }
  }

  async #file(abs: string): Promise<FileEntry | null> {
    const o = this.#o
    const read = await readVersion(abs, o.cacheMaxFileSize)
    if (read === null) return null
    const { body, stamp } = read
    const type = contentTypeFor(abs)
    const lastModified = httpDate(stamp.mtimeMs)
    const siblings: Partial<Record<Coding, Representation>> = {}
    const codings: Coding[] = []
    const compressible = isCompressible(type)
    const onTheFly = body !== null && compressible && stamp.size >= o.threshold
    for (const coding of ['br', 'gzip'] as const) {
      if (o.precompressed && compressible) {
        const sib = await this.#sibling(abs + SUFFIX[coding], coding, lastModified)
        if (sib !== null) {
          siblings[coding] = sib
          codings.push(coding)
          continue
        }
      }
      if (onTheFly && (coding === 'br' ? o.brotli : o.gzip)) codings.push(coding)
    }
    const etag = fileEtag(stamp.size, stamp.mtimeMs)
    const identity: Representation = {
      coding: null, path: abs, size: stamp.size, body, etag, stamp: null,
      headers: this.headers(stamp.size, etag, lastModified, null, codings.length > 0),
    }
    const siblingsAt = o.precompressed && compressible ? Date.now() : null
    return { kind: 'file', abs, stamp, type, lastModified, identity, codings, siblings, compressed: new Map(), siblingsAt, checked: { round: 0, current: true } }
  }

  async #sibling(p: string, coding: Coding, lastModified: string): Promise<Representation | null> {
    if (!await this.allowed(await realpath(p).catch(() => ''))) return null
    const read = await readVersion(p, this.#o.cacheMaxFileSize)
    if (read === null) return null
    const { body, stamp } = read
    const etag = `${fileEtag(stamp.size, stamp.mtimeMs).slice(0, -1)}-${coding}"`
    return { coding, path: p, size: stamp.size, body, etag, stamp, headers: this.headers(stamp.size, etag, lastModified, coding, true) }
  }

  /** The on-the-fly `coding` copy of a cached file, compressed once and kept with the entry. */
  compressed(key: string, e: FileEntry, coding: Coding): Representation | Promise<Representation | null> {
    const have = e.compressed.get(coding)
    if (have !== undefined) return have
    const body = e.identity.body!
    const p = compress(body, coding).then((out) => {
      const etag = `${e.identity.etag.slice(0, -1)}-${coding}"`
      const rep: Representation = {
        coding, path: e.abs, size: out.byteLength, body: out, etag, stamp: null,
        headers: this.headers(out.byteLength, etag, e.lastModified, coding, true),
      }
      e.compressed.set(coding, rep)
      this.#lru.grow(key, out.byteLength)
      return rep
    }, () => {
      e.compressed.delete(coding)
      return null
    })
    e.compressed.set(coding, p)
    return p
  }

  /** The headers of a 200, as a flat list. */
  headers(size: number, etag: string, lastModified: string, coding: Coding | null, vary: boolean): string[] {
    const h = ['content-length', String(size), 'etag', etag, 'last-modified', lastModified, 'accept-ranges', 'bytes', 'cache-control', this.#o.cacheControl]
    if (coding !== null) h.push('content-encoding', coding)
    if (vary) h.push('vary', 'Accept-Encoding')
    if (this.#o.cors) h.push('access-control-allow-origin', '*')
    return h
  }

  /** Count `bytes` more (or fewer) against the entry of `key` (a listing was rendered for it). */
  account(key: string, bytes: number): void {
    this.#lru.grow(key, bytes)
  }

  /** Drop one entry (it is rebuilt on its next request). */
  forget(key: string): void {
    this.#lru.delete(key)
  }

  /** Forget everything (tests, and a root that was replaced). */
  clear(): void {
    this.#lru.clear()
  }

  /** Entries and bytes held (for tests and diagnostics). */
  get stats(): { entries: number; bytes: number } {
    return { entries: this.#lru.size, bytes: this.#lru.cost }
  }
}

/** Is the file at `p` still the version `stamp` describes (one `stat`)? */
function isCurrent(p: string, stamp: Stamp): boolean {
  const st = statNow(p)
  return st !== undefined && sameStamp(st, stamp)
}

/**
 * Are the precompressed siblings still the versions cached with the file? Checked in the
 * same round as the file, so a changed `file.br` rebuilds the entry before it is sent.
 */
function siblingsCurrent(e: FileEntry): boolean {
  return siblingCurrent(e.siblings.br) && siblingCurrent(e.siblings.gzip)
}

function siblingCurrent(rep: Representation | undefined): boolean {
  return rep === undefined || (rep.stamp !== null && isCurrent(rep.path, rep.stamp))
}

function bytesHeld(e: Entry): number {
  if (e.kind === 'dir') return 0
  return (e.identity.body?.byteLength ?? 0) + (e.siblings.br?.body?.byteLength ?? 0) + (e.siblings.gzip?.body?.byteLength ?? 0)
}
