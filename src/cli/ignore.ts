/**
 * What `carafe run --reload` never restarts for: dependencies, VCS and Carafe's own state,
 * build output, upload and data folders, and database files (SQLite writes its journal and
 * WAL next to the database on every write, so watching them would restart on each request).
 */
export const DEFAULT_IGNORES: readonly string[] = [
  'node_modules/', '.git/', '.carafe/', 'dist/', 'build/', 'coverage/', 'uploads/', 'data/',
  '*.db', '*.sqlite', '*.sqlite3', '*-wal', '*-shm', '*-journal', '*.log', '*.tmp', '*.swp', '*~',
]

/**
 * A test for paths relative to the watched folder (`/`-separated), from gitignore-like
 * globs: `*` and `?` stay within a segment, `**` crosses them; a glob without a `/` matches
 * a name at any depth (`*.csv`), one with a `/` inside matches from the top
 * (`logs/*.txt`); a match on a folder (`uploads/`, `uploads`) covers everything under it.
 *
 * @example
 * ignoreMatcher(['uploads/', '*.db'])('uploads/a/b.png') // true
 */
export function ignoreMatcher(globs: readonly string[]): (relative: string) => boolean {
  const res = globs.map(globToRegExp)
  return (relative) => {
    const segments = relative.split(/[/\\]/).filter((s) => s !== '')
    // Any leading run of segments matching means the path is inside an ignored folder or is the file.
    for (let i = 1; i <= segments.length; i++) {
      const prefix = segments.slice(0, i).join('/')
      for (const re of res) if (re.test(prefix)) return true
    }
    return false
  }
}

function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/\\/g, '/').replace(/\/+$/, '')
  const anchored = g.includes('/')
  g = g.replace(/^\.?\//, '')
  let out = ''
  for (let i = 0; i < g.length; i++) {
    const ch = g[i]!
    if (ch === '*' && g[i + 1] === '*') {
      out += g[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += g[i + 2] === '/' ? 2 : 1
    } else if (ch === '*') out += '[^/]*'
    else if (ch === '?') out += '[^/]'
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(anchored ? `^${out}$` : `(?:^|/)${out}$`)
}
