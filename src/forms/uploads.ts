import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Bytes spooled between two young-generation collections (see {@link scavenge}). */
const SCAVENGE_EVERY = 4 * 1024 * 1024
let minorGc: ((options: { type: 'minor' }) => void) | null | undefined

/**
 * A big upload passes through Node as a stream of fresh 64 KiB socket buffers. They die
 * young, but V8 only collects them once tens of MiB of external memory pile up, so the RSS
 * of a server taking a 200 MiB upload grows by ~40 MiB (raw node:http included). A minor GC
 * (a scavenge: about a millisecond, young objects only) every few MiB spooled releases them
 * as we go. `--expose-gc` is turned on at run time for this one function.
 */
function scavenge(): void {
  if (minorGc === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      minorGc = runInNewContext('gc') as typeof minorGc
    } catch {
      minorGc = null
    }
  }
  minorGc?.({ type: 'minor' })
}

/**
 * A file from a multipart upload. Small files stay in memory; larger ones are spooled to a
 * temporary file, which is deleted when the request ends (also when it fails or the client
 * goes away), so `saveTo()` what you want to keep.
 */
export class UploadedFile {
  /** The form field name. */
  readonly name: string
  /** The client's file name made safe: no directories, no `..`, no control characters. */
  readonly filename: string
  /** The file name exactly as the client sent it (never use it as a path). */
  readonly originalFilename: string
  /** The MIME type the client declared (not verified). */
  readonly type: string
  /** Size in bytes. */
  readonly size: number
  /** Temporary file path while the request lasts, or `null` when the file is in memory. */
  readonly path: string | null
  readonly #memory: Buffer | null

  constructor(init: { name: string; originalFilename: string; type: string; size: number; path: string | null; memory: Buffer | null }) {
    this.name = init.name
    this.originalFilename = init.originalFilename
    this.filename = safeFilename(init.originalFilename)
    this.type = init.type
    this.size = init.size
    this.path = init.path
    this.#memory = init.memory
  }

  /** The content as a stream (read from disk for spooled files). */
  stream(): Readable {
    return this.path !== null ? createReadStream(this.path) : Readable.from([this.#memory ?? Buffer.alloc(0)])
  }

  /** The whole content in memory: mind the size. */
  async bytes(): Promise<Uint8Array> {
    return this.path !== null ? readFile(this.path) : (this.#memory ?? Buffer.alloc(0))
  }

  /** The content as UTF-8 text. */
  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8')
  }

  /**
   * Save the file into `dir` as `name` (default: the safe {@link UploadedFile.filename}) and
   * return the full path. The name is made safe too, so it can never leave `dir`.
   */
  async saveTo(dir: string, name: string = this.filename): Promise<string> {
    await mkdir(dir, { recursive: true })
    const target = path.join(dir, safeFilename(name))
    if (this.path === null) {
      const { writeFile } = await import('node:fs/promises')
      await writeFile(target, this.#memory ?? Buffer.alloc(0))
      return target
    }
    try {
      await rename(this.path, target)
      ;(this as { path: string | null }).path = target
    } catch {
      await copyFile(this.path, target)
    }
    return target
  }
}

/**
 * Make a client-supplied file name safe to use as one path component: keep only the last
 * part after `/` or `\`, drop control characters and leading dots, and fall back to
 * `upload` when nothing is left. Path traversal through an upload name is impossible.
 *
 * @example
 * safeFilename('../../etc/passwd') // 'passwd'
 */
export function safeFilename(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? ''
  const clean = base.replace(/[\x00-\x1f\x7f<>:"|?*]/g, '').replace(/^[.\s]+/, '').trim().slice(0, 200)
  return clean === '' ? 'upload' : clean
}

/** A per-request folder for spooled uploads, made on first use and removed by `cleanup()`. */
export class SpoolDir {
  #dir: Promise<string> | null = null
  #count = 0
  #closed = false

  /** A fresh file path inside the folder; refused once `cleanup()` has started. */
  async next(): Promise<string> {
    // A spool still writing when the request ends must not make a folder nobody removes.
    if (this.#closed) throw new Error('the upload folder of this request was already removed')
    this.#dir ??= mkdtemp(path.join(tmpdir(), 'carafe-upload-'))
    return path.join(await this.#dir, `part-${this.#count++}`)
  }

  /** Remove the folder and everything in it. */
  async cleanup(): Promise<void> {
    this.#closed = true
    if (this.#dir === null) return
    const dir = await this.#dir.catch(() => null)
    if (dir !== null) await rm(dir, { recursive: true, force: true })
  }
}

/**
 * A writable that keeps the first `threshold` bytes in memory and moves to a temporary file
 * past that, so an upload of any size costs at most `threshold` bytes of memory plus the
 * stream buffers; backpressure comes from the file writes.
 */
export class Spool extends Writable {
  readonly #threshold: number
  readonly #dir: SpoolDir
  #chunks: Buffer[] = []
  #size = 0
  #file: WriteStream | null = null
  path: string | null = null

  constructor(threshold: number, dir: SpoolDir) {
    super()
    this.#threshold = threshold
    this.#dir = dir
  }

  get size(): number {
    return this.#size
  }

  /** The in-memory content, when the upload stayed under the threshold. */
  get memory(): Buffer | null {
    return this.#file === null ? Buffer.concat(this.#chunks, this.#size) : null
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.#size += chunk.length
    if (this.#size % SCAVENGE_EVERY < chunk.length) scavenge()
    if (this.#file !== null) {
      this.#file.write(chunk) ? done() : this.#file.once('drain', () => done())
      return
    }
    this.#chunks.push(chunk)
    if (this.#size <= this.#threshold) return done()
    this.#dir.next().then((p) => {
      // Destroyed while the folder was being made (the parse failed or the client left):
      // opening the file now would leak its descriptor, since nothing would close it.
      if (this.destroyed) return done()
      this.path = p
      this.#file = createWriteStream(p)
      this.#file.on('error', (e) => this.destroy(e))
      const pending = Buffer.concat(this.#chunks)
      this.#chunks = []
      this.#file.write(pending) ? done() : this.#file.once('drain', () => done())
    }, done)
  }

  override _final(done: (e?: Error | null) => void): void {
    if (this.#file === null) return done()
    this.#file.end(() => done())
  }

  override _destroy(err: Error | null, done: (e?: Error | null) => void): void {
    if (this.#file !== null && !this.#file.closed) this.#file.destroy()
    done(err)
  }
}
