/** Options of the static file engine, shared by `carafe serve`, `app.static()` and `staticFile()`. */
export interface StaticOptions {
  /** File names served for a folder that has one; `false` for none. @default ['index.html'] */
  index?: readonly string[] | false
  /** Show an HTML listing for a folder without an index file. @default false (true for `carafe serve`) */
  listing?: boolean
  /** Answer a folder requested without its trailing slash with a 301 to the slash form (query kept). @default true */
  redirect?: boolean
  /** Serve and list files and folders whose names start with `.` (`/.well-known/` is always served). @default false */
  dotfiles?: boolean
  /** Follow symlinks that resolve outside the root (inside it they always work). @default false */
  followSymlinks?: boolean
  /** `Cache-Control: max-age` in seconds; 0 sends `no-cache`, so browsers revalidate and edits show up at once. @default 0 */
  maxAge?: number
  /** Add `immutable` to `Cache-Control` (for file names that change with their content). @default false */
  immutable?: boolean
  /** Single-page app: serve this file (`true` means `index.html`) with 200 for unknown paths whose request accepts HTML. @default false */
  spa?: boolean | string
  /** Send `Access-Control-Allow-Origin: *` and answer CORS preflights. @default false */
  cors?: boolean
  /** Serve `file.br` / `file.gz` next to `file` to clients that accept them. @default true */
  precompressed?: boolean
  /** Compress compressible files on the fly (once per file version, kept in the cache). @default false */
  compress?: boolean | CompressOptions
  /** Memory for cached file contents (and their compressed copies), in bytes. @default 67108864 (64 MiB) */
  cacheSize?: number
  /** Largest file kept in memory; larger files are streamed from disk. @default 1048576 (1 MiB) */
  cacheMaxFileSize?: number
}

/** On-the-fly compression settings. */
export interface CompressOptions {
  /** Offer gzip. @default true */
  gzip?: boolean
  /** Offer Brotli. @default true */
  brotli?: boolean
  /** Files smaller than this are sent as they are (compression would not pay). @default 1024 */
  threshold?: number
}

/** {@link StaticOptions} with every default filled in. */
export interface ResolvedStaticOptions {
  readonly index: readonly string[]
  readonly listing: boolean
  readonly redirect: boolean
  readonly dotfiles: boolean
  readonly followSymlinks: boolean
  readonly cacheControl: string
  readonly spa: string | null
  readonly cors: boolean
  readonly precompressed: boolean
  readonly gzip: boolean
  readonly brotli: boolean
  readonly threshold: number
  readonly cacheSize: number
  readonly cacheMaxFileSize: number
}

/** Fill in the defaults (and check the numbers). */
export function resolveStaticOptions(o: StaticOptions = {}): ResolvedStaticOptions {
  const maxAge = o.maxAge ?? 0
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new TypeError(`static maxAge must be a whole number of seconds >= 0, got ${String(o.maxAge)}`)
  const compress = o.compress === true ? {} : o.compress === false || o.compress === undefined ? null : o.compress
  return {
    index: o.index === false ? [] : [...(o.index ?? ['index.html'])],
    listing: o.listing ?? false,
    redirect: o.redirect ?? true,
    dotfiles: o.dotfiles ?? false,
    followSymlinks: o.followSymlinks ?? false,
    cacheControl: maxAge === 0 ? 'no-cache' : `public, max-age=${maxAge}${o.immutable === true ? ', immutable' : ''}`,
    spa: o.spa === true ? 'index.html' : typeof o.spa === 'string' ? o.spa : null,
    cors: o.cors ?? false,
    precompressed: o.precompressed ?? true,
    gzip: compress !== null && compress.gzip !== false,
    brotli: compress !== null && compress.brotli !== false,
    threshold: compress?.threshold ?? 1024,
    cacheSize: o.cacheSize ?? 64 * 1024 * 1024,
    cacheMaxFileSize: o.cacheMaxFileSize ?? 1024 * 1024,
  }
}
