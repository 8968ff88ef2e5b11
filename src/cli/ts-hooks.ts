/**
 * Module hooks that let `carafe run app.ts` import TypeScript with no build step.
 *
 * Node 20 runs module hooks in a worker thread, and every module that loads after the hooks
 * are registered makes a round trip to it; the lighter the hooks, the sooner the first
 * request is answered. So this file does only what running TypeScript needs:
 *
 * - resolve: the specifiers TypeScript code writes (`./db.js` for `db.ts`, `./db` for
 *   `db.ts` or `db/index.ts`) that Node alone would not find;
 * - load: `.ts`, `.tsx` and `.mts` files compiled to ES modules by esbuild (types stripped,
 *   nothing type-checked), with an inline source map so stack traces and the debug page
 *   show TypeScript lines. Compiled files are kept in a cache in the temp folder, keyed by
 *   path, size and modification time (one cached file per source file), so an unchanged
 *   app starts without esbuild. `carafe run` checks that folder is private before passing
 *   it in (ts-cache.ts): whatever is in it runs as the user. A syntax error becomes one
 *   `file:line:column` line with a code frame (syntax-error.ts, loaded only then).
 *
 * Everything else goes to Node's own resolution and loading unchanged.
 */
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

interface ResolveContext { conditions: string[]; importAttributes?: Record<string, string>; parentURL?: string }
interface ResolveResult { url: string; format?: string | null; shortCircuit?: boolean }
interface LoadContext { conditions: string[]; format?: string | null; importAttributes?: Record<string, string> }
interface LoadResult { format: string; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean }
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>
type NextLoad = (url: string, context?: LoadContext) => Promise<LoadResult>

const TS_FILE = /\.(ts|tsx|mts)$/
/** Bumped when the compiled output would differ for the same input. */
const CACHE_VERSION = '2'

/** Where TypeScript code names a file Node would not find, the names to try instead. */
function alternatives(specifier: string): string[] {
  if (specifier.endsWith('.js')) return [`${specifier.slice(0, -3)}.ts`, `${specifier.slice(0, -3)}.tsx`]
  if (specifier.endsWith('.jsx')) return [`${specifier.slice(0, -4)}.tsx`]
  if (specifier.endsWith('.mjs')) return [`${specifier.slice(0, -4)}.mts`]
  if (/\.[a-z]+$/i.test(path.posix.basename(specifier))) return []
  const bare = specifier.replace(/\/$/, '')
  return [`${bare}.ts`, `${bare}.tsx`, `${bare}/index.ts`, `${bare}/index.tsx`, `${bare}.js`, `${bare}/index.js`]
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  try {
    return await next(specifier, context)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const local = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:')
    if (!local || (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT')) throw error
    for (const alt of alternatives(specifier)) {
      try {
        return await next(alt, context)
      } catch {
        // try the next spelling
      }
    }
    throw error
  }
}

export async function load(url: string, context: LoadContext, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith('file:') || !TS_FILE.test(url)) return next(url, context)
  const file = fileURLToPath(url)
  return { format: 'module', source: await compiled(file), shortCircuit: true }
}

/** The cache folder `carafe run` checked and passed in (see ts-cache.ts); `null` for none. */
let cacheDir: string | null = null

/** Called by `register()` with the checked cache folder. */
export function initialize(data: { cacheDir?: string | null } | undefined): void {
  cacheDir = data?.cacheDir ?? null
}

/**
 * The compiled module for `file`. The cache keeps one file per source path (named by a hash
 * of the path), ending with a comment that names the version it was compiled from (size,
 * modification time, inode), so edits replace their old copy instead of piling up.
 */
async function compiled(file: string): Promise<string> {
  const st = statSync(file)
  const trailer = `\n//# carafe-ts ${CACHE_VERSION} ${st.size} ${st.mtimeMs} ${st.ino}\n`
  const dir = cacheDir
  const cached = dir === null ? null : path.join(dir, `${createHash('sha1').update(file).digest('hex')}.js`)
  if (cached !== null) {
    try {
      const text = readFileSync(cached, 'utf8')
      if (text.endsWith(trailer)) return text.slice(0, -trailer.length)
    } catch {
      // not compiled yet
    }
  }
  const source = readFileSync(file, 'utf8')
  const { transform } = await import('esbuild')
  let out: { code: string }
  try {
    out = await transform(source, {
      loader: file.endsWith('x') ? 'tsx' : 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: file,
      jsx: 'automatic',
      logLevel: 'silent',
    })
  } catch (e) {
    const { syntaxError } = await import('./syntax-error.js')
    throw syntaxError(file, source, e)
  }
  if (cached !== null) {
    try {
      // Written whole under a fresh name, then renamed: a concurrent start never reads half a file.
      const tmp = `${cached}.${process.pid}.${Date.now()}.tmp`
      writeFileSync(tmp, out.code + trailer, { flag: 'wx', mode: 0o600 })
      renameSync(tmp, cached)
    } catch {
      // a read-only or full temp folder only costs the next start a compile
    }
  }
  return out.code
}

