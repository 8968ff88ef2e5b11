import { lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * The folder where `carafe run` keeps compiled TypeScript: `$TMPDIR/carafe-ts-<uid>`, made
 * on first use with mode 0700, or `null` when the temp folder is not writable.
 *
 * Threat: whatever is in this folder runs as the user, so another local user who can plant a
 * file in it (the temp folder is shared; they can create the folder first, or make it a
 * symlink) gets code execution. Rule: use it only if it is a real folder (not a symlink),
 * owned by us, with no access for group or others. Otherwise warn and use a fresh private
 * folder from `mkdtemp` (mode 0700) for this run only, removed at exit.
 */
export function privateCacheDir(warn: (message: string) => void = (m) => console.error(m)): string | null {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const dir = path.join(tmpdir(), `carafe-ts-${uid ?? 'user'}`)
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return null
  }
  const problem = unsafe(dir, uid)
  if (problem === undefined) return dir
  warn(`carafe: not using the TypeScript cache ${dir}: ${problem}. Compiling into a private folder for this run; remove ${dir} to get the cache back.`)
  try {
    const fresh = mkdtempSync(path.join(tmpdir(), 'carafe-ts-'))
    process.once('exit', () => rmSync(fresh, { recursive: true, force: true }))
    return fresh
  } catch {
    return null
  }
}

/** Why `dir` cannot be trusted, or `undefined` when it can. */
function unsafe(dir: string, uid: number | undefined): string | undefined {
  const st = lstatSync(dir)
  if (st.isSymbolicLink()) return 'it is a symlink'
  if (!st.isDirectory()) return 'it is not a folder'
  // Windows has no owners or modes to check; its temp folder is per-user.
  if (uid === undefined) return undefined
  if (st.uid !== uid) return `it belongs to another user (uid ${st.uid})`
  if ((st.mode & 0o077) !== 0) return `other users can access it (mode ${(st.mode & 0o777).toString(8)})`
  return undefined
}
