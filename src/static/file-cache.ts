import { constants, statSync, type Stats } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileEtag, httpDate } from './conditional.js'
import { compress, SUFFIX, type Coding } from './encoding.js'
import { LruCache } from './lru.js'
import { contentTypeFor, isCompressible } from './mime.js'
import type { ResolvedStaticOptions } from './options.js'

/** What identifies one version of a file: if any of these change, the cached copy is dropped. */
export interface Stamp {
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number
}

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
  /** For a precompressed sibling: its stamp, checked before each use. */
  readonly stamp: Stamp | null
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
}

/** A cached folder: its index file, if any, and its rendered listing once asked for. */
export interface DirEntry {
  readonly kind: 'dir'
  readonly abs: string
  readonly stamp: Stamp
  /** Name of the index file to serve, or `null`. */
  readonly index: string | null
  listing: { readonly urlPath: string; readonly html: Buffer; readonly etag: string; readonly at: number } | null
  rendering: Promise<void> | null
}

export type Entry = FileEntry | DirEntry

/** Per-entry bookkeeping cost on top of the bytes it holds. */
const ENTRY_COST = 1024
/**
 * A file changed very recently may change again within the same timestamp tick (file
 * systems stamp with a coarse clock: a few ms on ext4 and tmpfs, whole seconds on some),
 * and a cached copy could then not tell the two versions apart. Such a file is served but
 * not cached until its stamp is older than the tick ("racy git" has the same rule).
 */
function isRacy(st: Stamp): boolean {
  const coarse = st.mtimeMs % 1000 === 0 && st.ctimeMs % 1000 === 0
  return Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < (coarse ? 2000 : 50)
}

/** Stat without throwing: `undefined` for anything that is not there to serve. */
export function statNow(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false })
  } catch {
    return undefined // ENOTDIR, EACCES, ELOOP, ENAMETOOLONG: nothing to serve either way
  }
}

/** Is `real` the folder `root` or inside it? (Both absolute, symlinks resolved.) */
export function isInside(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
}

function stampOf(st: Stats): Stamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }
}

/** Does a fresh stat still describe the cached version? */
export function sameStamp(st: Stats, s: Stamp): boolean {
  return st.mtimeMs === s.mtimeMs && st.size === s.size && st.ino === s.ino && st.ctimeMs === s.ctimeMs
}

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

  /** The cached entry for `key` if it is still current (one synchronous `stat`). */
  fresh(key: string): Entry | undefined {
    const e = this.#lru.get(key)
    if (e === undefined) return undefined
    const st = statNow(e.abs)
    if (st !== undefined && sameStamp(st, e.stamp)) return e
    this.#lru.delete(key)
    return undefined
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
    const entry = st.isDirectory() ? await this.#dir(abs, st) : st.isFile() ? await this.#file(abs, st) : null
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
    return { kind: 'dir', abs, stamp: stampOf(st), index, listing: null, rendering: null }
  }

  async #file(abs: string, st: Stats): Promise<FileEntry | null> {
    const o = this.#o
    let body: Buffer | null = null
    let stamp = stampOf(st)
    if (st.size <= o.cacheMaxFileSize) {
      const read = await readWhole(abs)
      if (read === null) return null
      ;[body, stamp] = read
    }
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
    return { kind: 'file', abs, stamp, type, lastModified, identity, codings, siblings, compressed: new Map() }
  }

  async #sibling(p: string, coding: Coding, lastModified: string): Promise<Representation | null> {
    const st = await stat(p).catch(() => null)
    if (st === null || !st.isFile() || !await this.allowed(await realpath(p).catch(() => ''))) return null
    let body: Buffer | null = null
    let stamp = stampOf(st)
    if (st.size <= this.#o.cacheMaxFileSize) {
      const read = await readWhole(p)
      if (read === null) return null
      ;[body, stamp] = read
    }
    const etag = `${fileEtag(stamp.size, stamp.mtimeMs).slice(0, -1)}-${coding}"`
    return { coding, path: p, size: stamp.size, body, etag, stamp, headers: this.headers(stamp.size, etag, lastModified, coding, true) }
  }

  /** Is a precompressed sibling still the version we cached? */
  siblingFresh(rep: Representation): boolean {
    const st = rep.stamp === null ? undefined : statNow(rep.path)
    return st !== undefined && rep.stamp !== null && sameStamp(st, rep.stamp)
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

function bytesHeld(e: Entry): number {
  if (e.kind === 'dir') return 0
  return (e.identity.body?.byteLength ?? 0) + (e.siblings.br?.body?.byteLength ?? 0) + (e.siblings.gzip?.body?.byteLength ?? 0)
}

/**
 * Read a whole file with the stat of the very descriptor read, so the content and the
 * stamp belong together. O_NONBLOCK keeps a fifo swapped in since the `stat` from hanging.
 */
async function readWhole(p: string): Promise<[Buffer, Stamp] | null> {
  let fh
  try {
    fh = await open(p, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
    const st = await fh.stat()
    if (!st.isFile()) return null
    const buf = Buffer.allocUnsafe(st.size)
    let off = 0
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off)
      if (bytesRead === 0) break
      off += bytesRead
    }
    // A file that shrank while we read it: send what was read; its stamp will not match
    // the next stat, so the next request reads it again.
    return off === st.size ? [buf, stampOf(st)] : [buf.subarray(0, off), { ...stampOf(st), size: off }]
  } catch {
    return null
  } finally {
    await fh?.close()
  }
}
