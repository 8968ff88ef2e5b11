import { realpath, stat, type Dirent, type Stats } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { escapeHtml } from '../util/html-escape.js'
import { statNow } from './stamp.js'

/** One row of a directory listing. */
export interface ListingItem {
  readonly name: string
  readonly dir: boolean
  readonly size: number
  readonly mtimeMs: number
}

/** What {@link readListing} needs to know about the root's rules. */
export interface ListingRules {
  /** Show names starting with `.`. */
  dotfiles: boolean
  /** Is this real path allowed (inside the root, or symlinks may leave it)? */
  allowed(real: string): boolean
}

/**
 * Stats in flight at once: enough to keep libuv's pool busy, few enough that a folder of
 * 100,000 files does not queue 100,000 requests (and callbacks, not promises: for 10,000
 * entries this is twice as fast).
 */
const STAT_POOL = 64

/**
 * What a listing was read from: for each visible entry, what its `stat` said then. A file
 * edited in place changes neither the folder's stamp nor its names, only its own `stat`.
 */
export interface ListingProbes {
  readonly paths: readonly string[]
  /** `stat` results when read: kind (see {@link kindOf}), size and modification time. */
  readonly kinds: readonly number[]
  readonly sizes: readonly number[]
  readonly mtimes: readonly number[]
}

/** A folder read for its listing: the rows, and the probes that tell when they go stale. */
export interface FolderRead {
  readonly items: ListingItem[]
  readonly probes: ListingProbes
}

/** 0: not checked again (a symlink leaving the root; retargeting it changes the folder), 1: missing, 2: file, 3: folder, 4: other. */
function kindOf(st: Stats | undefined): number {
  return st === undefined ? 1 : st.isFile() ? 2 : st.isDirectory() ? 3 : 4
}

/**
 * Read a folder for its listing: every visible entry with its size and modification time,
 * folders first, then by name without regard to case (as Python's http.server sorts).
 * Hidden files, broken symlinks and symlinks that leave the root are left out, so the
 * listing shows exactly what can be fetched.
 */
export async function readListing(dir: string, rules: ListingRules): Promise<FolderRead> {
  const dirents = await readdir(dir, { withFileTypes: true })
  const visible = dirents.filter((d) => (rules.dotfiles || d.name.charCodeAt(0) !== 46) && !d.name.includes('\\'))
  const paths = visible.map((d) => path.join(dir, d.name))
  const kinds = new Array<number>(visible.length).fill(0)
  const sizes = new Array<number>(visible.length).fill(0)
  const mtimes = new Array<number>(visible.length).fill(0)
  const items = await mapPool(visible, STAT_POOL, (d, i, done) => describe(paths[i]!, d, rules, (item, st) => {
    if (st !== null) {
      kinds[i] = kindOf(st)
      sizes[i] = st?.size ?? 0
      mtimes[i] = st?.mtimeMs ?? 0
    }
    done(item)
  }))
  const rows = items.filter((x): x is ListingItem => x !== null)
  const keys = new Map(rows.map((r) => [r, r.name.toLowerCase()]))
  rows.sort((a, b) => {
    if (a.dir !== b.dir) return a.dir ? -1 : 1
    const ka = keys.get(a)!
    const kb = keys.get(b)!
    return ka < kb ? -1 : ka > kb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  })
  return { items: rows, probes: { paths, kinds, sizes, mtimes } }
}

/**
 * Do the entries still `stat` as they did when the listing was read? Synchronous, one
 * `statSync` per entry (2-4 µs each, as the file cache revalidates; see `statNow`).
 */
export function probesCurrent(p: ListingProbes): boolean {
  for (let i = 0; i < p.paths.length; i++) {
    const kind = p.kinds[i]!
    if (kind === 0) continue
    const st = statNow(p.paths[i]!)
    if (kindOf(st) !== kind || (st !== undefined && (st.size !== p.sizes[i] || st.mtimeMs !== p.mtimes[i]))) return false
  }
  return true
}

/** `st`: the entry's `stat` (`undefined` when it failed), or `null` when it is not checked again. */
function describe(full: string, d: Dirent, rules: ListingRules, done: (item: ListingItem | null, st: Stats | undefined | null) => void): void {
  const onStat = (err: Error | null, st: Stats): void => {
    if (err !== null) return done(null, undefined)
    done(!st.isFile() && !st.isDirectory() ? null : { name: d.name, dir: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs }, st)
  }
  if (!d.isSymbolicLink()) return stat(full, onStat)
  realpath(full, (err, real) => (err !== null ? done(null, undefined) : !rules.allowed(real) ? done(null, null) : stat(full, onStat)))
}

/** Run `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number, done: (r: R) => void) => void): Promise<R[]> {
  return new Promise((resolve) => {
    const out = new Array<R>(items.length)
    let next = 0
    let finished = 0
    if (items.length === 0) return resolve(out)
    const start = (): void => {
      const i = next++
      fn(items[i]!, i, (r) => {
        out[i] = r
        if (++finished === items.length) resolve(out)
        else if (next < items.length) start()
      })
    }
    for (let k = 0; k < Math.min(limit, items.length); k++) start()
  })
}

const STYLE = ':root{color-scheme:light dark;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}' +
  'body{max-width:60rem;margin:2rem auto;padding:0 1rem}' +
  'h1{font-size:1.2rem;font-weight:600;overflow-wrap:anywhere}' +
  'table{width:100%;border-collapse:collapse}' +
  'th,td{padding:.3rem .6rem;border-bottom:1px solid #8884;text-align:left}' +
  'th{font-size:.8rem;font-weight:600;opacity:.7}' +
  'td:nth-child(n+2),th:nth-child(n+2){text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}' +
  'td:first-child{overflow-wrap:anywhere}' +
  'tr:hover td{background:#8881}a{text-decoration:none}a:hover{text-decoration:underline}' +
  '.d a{font-weight:600}footer{margin-top:1rem;font-size:.8rem;opacity:.7}'

/**
 * The HTML of a directory listing: `Directory listing for /path/` as title (Python's), a
 * link per path segment, `../` except at the top, then one row per item with its size and
 * modification time. Names are HTML-escaped; links are percent-encoded and relative, so
 * `나의 비밀 방.txt`, `a&b`, `#x` and `a:b` all work. No JavaScript, a few lines of CSS.
 *
 * @param urlPath the decoded URL path of the folder, ending in `/`
 * @param top true for the top of what is served (no `../` row)
 */
export function renderListing(urlPath: string, items: readonly ListingItem[], top: boolean): string {
  const title = `Directory listing for ${escapeHtml(urlPath)}`
  const out: string[] = [
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width,initial-scale=1">\n',
    `<title>${title}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<h1>Directory listing for ${breadcrumbs(urlPath)}</h1>\n`,
    '<table>\n<thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>\n<tbody>\n',
  ]
  if (!top) out.push('<tr class="d"><td><a href="../">../</a></td><td></td><td></td></tr>\n')
  let dirs = 0
  for (const it of items) {
    const name = escapeHtml(it.name)
    // encodeURIComponent leaves only [A-Za-z0-9-_.!~*'()]: safe in a quoted attribute once
    // `'` is escaped, and `a:b` cannot be read as a URL scheme because `:` is encoded.
    const href = escapeHtml(encodeURIComponent(it.name))
    if (it.dir) {
      dirs++
      out.push(`<tr class="d"><td><a href="${href}/">${name}/</a></td><td>-</td><td>${formatTime(it.mtimeMs)}</td></tr>\n`)
    } else {
      out.push(`<tr><td><a href="${href}">${name}</a></td><td title="${it.size} bytes">${formatSize(it.size)}</td><td>${formatTime(it.mtimeMs)}</td></tr>\n`)
    }
  }
  const files = items.length - dirs
  out.push(`</tbody>\n</table>\n<footer>${dirs} ${dirs === 1 ? 'folder' : 'folders'}, ${files} ${files === 1 ? 'file' : 'files'}</footer>\n</body>\n</html>\n`)
  return out.join('')
}

/** `/a/b/` as links to `/`, `/a/`, `/a/b/`. */
function breadcrumbs(urlPath: string): string {
  const parts = urlPath.split('/').filter((p) => p !== '')
  let href = '/'
  let html = `<a href="/">/</a>`
  for (const p of parts) {
    href += `${encodeURIComponent(p)}/`
    html += `<a href="${escapeHtml(href)}">${escapeHtml(p)}/</a>`
  }
  return html
}

/** `999 B`, `1.5 KiB`, `12 MiB`: one decimal below ten, none above. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let n = bytes / 1024
  let u = 0
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024
    u++
  }
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[u]}`
}

/** `2024-03-01 14:05:09`, in the server's local time (to the second, so an edit shows). */
export function formatTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** Do two reads of a folder describe the same listing (names, kinds, sizes and times)? */
export function sameItems(a: readonly ListingItem[], b: readonly ListingItem[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x.name !== y.name || x.dir !== y.dir || x.size !== y.size || x.mtimeMs !== y.mtimeMs) return false
  }
  return true
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
