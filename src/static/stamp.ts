import { constants, statSync, type Stats } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'

// Telling versions of a file apart, and reading one whole version consistently.

/** What identifies one version of a file: if any of these change, the cached copy is dropped. */
export interface Stamp {
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number
}

/**
 * A file changed very recently may change again within the same timestamp tick (file
 * systems stamp with a coarse clock: a few ms on ext4 and tmpfs, whole seconds on some),
 * and a cached copy could then not tell the two versions apart. Such a file is served but
 * not cached until its stamp is older than the tick ("racy git" has the same rule).
 */
export function isRacy(st: Stamp): boolean {
  const coarse = st.mtimeMs % 1000 === 0 && st.ctimeMs % 1000 === 0
  return Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < (coarse ? 2000 : 50)
}

/**
 * Stat without throwing: `undefined` for anything that is not there to serve.
 *
 * Synchronous on purpose: this is the one `stat` per request that revalidates a cached
 * file. Measured on loopback, `statSync` costs 2-4 µs on the main thread, while the async
 * `stat` (a trip through libuv's thread pool and a promise) cut throughput by a further
 * 15% and adds latency. A root on a slow network file system is the exception to this.
 */
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

/** The stamp of a stat result. */
export function stampOf(st: Stats): Stamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }
}

/** Does a fresh stat still describe the cached version? */
export function sameStamp(st: Stats, s: Stamp): boolean {
  return st.mtimeMs === s.mtimeMs && st.size === s.size && st.ino === s.ino && st.ctimeMs === s.ctimeMs
}

/**
 * Open a file and read it whole when it is at most `maxSize` bytes (else only check that
 * it can be opened, so a 403-worthy file fails here and not halfway through a response).
 * The stamp is that of the very descriptor read, so content and stamp belong together.
 * O_NONBLOCK keeps a fifo swapped in since the `stat` from hanging the open.
 */
export async function readVersion(p: string, maxSize: number): Promise<{ body: Buffer | null; stamp: Stamp } | null> {
  let fh
  try {
    fh = await open(p, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
    const st = await fh.stat()
    if (!st.isFile()) return null
    if (st.size > maxSize) return { body: null, stamp: stampOf(st) }
    const buf = Buffer.allocUnsafe(st.size)
    let off = 0
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off)
      if (bytesRead === 0) break
      off += bytesRead
    }
    // A file that shrank while we read it: send what was read; its stamp will not match
    // the next stat, so the next request reads it again.
    return off === st.size ? { body: buf, stamp: stampOf(st) } : { body: buf.subarray(0, off), stamp: { ...stampOf(st), size: off } }
  } catch {
    return null
  } finally {
    await fh?.close()
  }
}
