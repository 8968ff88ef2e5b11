import { realpath, stat, type Dirent, type Stats } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { escapeHtml } from '../util/html-escape.js'

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
 * Read a folder for its listing: every visible entry with its size and modification time,
 * folders first, then by name without regard to case (as Python's http.server sorts).
 * Hidden files, broken symlinks and symlinks that leave the root are left out, so the
 * listing shows exactly what can be fetched.
 */
export async function readListing(dir: string, rules: ListingRules): Promise<ListingItem[]> {
  const dirents = await readdir(dir, { withFileTypes: true })
  const visible = dirents.filter((d) => (rules.dotfiles || d.name.charCodeAt(0) !== 46) && !d.name.includes('\\'))
  const items = await mapPool(visible, STAT_POOL, (d, done) => describe(dir, d, rules, done))
  const rows = items.filter((x): x is ListingItem => x !== null)
  const keys = new Map(rows.map((r) => [r, r.name.toLowerCase()]))
  return rows.sort((a, b) => {
    if (a.dir !== b.dir) return a.dir ? -1 : 1
    const ka = keys.get(a)!
    const kb = keys.get(b)!
    return ka < kb ? -1 : ka > kb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  })
}

function describe(dir: string, d: Dirent, rules: ListingRules, done: (item: ListingItem | null) => void): void {
  const full = path.join(dir, d.name)
  const onStat = (err: Error | null, st: Stats): void => {
    done(err !== null || (!st.isFile() && !st.isDirectory()) ? null : { name: d.name, dir: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs })
  }
  if (!d.isSymbolicLink()) return stat(full, onStat)
  realpath(full, (err, real) => (err !== null || !rules.allowed(real) ? done(null) : stat(full, onStat)))
}

/** Run `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, done: (r: R) => void) => void): Promise<R[]> {
  return new Promise((resolve) => {
    const out = new Array<R>(items.length)
    let next = 0
    let finished = 0
    if (items.length === 0) return resolve(out)
    const start = (): void => {
      const i = next++
      fn(items[i]!, (r) => {
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

/** `2024-03-01 14:05`, in the server's local time. */
export function formatTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
