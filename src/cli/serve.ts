import { statSync } from 'node:fs'
import path from 'node:path'
import { listen, type CarafeServer } from '../server/serve.js'
import type { StaticOptions } from '../static/options.js'
import { createFolderApp } from '../static/serve-folder.js'
import { parseFlags, parsePort, UsageError } from './args.js'
import { PYTHON_TLS_FLAGS, TLS_FLAGS, TLS_HELP, tlsOptionsFromFlags } from './tls-flags.js'
import type { TlsOptions } from '../server/tls.js'

/** `carafe serve --help`. */
export const SERVE_HELP = `Usage: carafe serve [dir] [port] [options]

Serve the files of a folder over HTTP (or HTTPS), like python -m http.server: index.html for
a folder that has one, a listing for one that has not, one log line per request.

Arguments:
  dir                     folder to serve (default: the current folder)
  port                    port to listen on (default: 8000)

Options:
  -d, --directory DIR     folder to serve (same as the dir argument)
  -p, --port PORT         port to listen on; 0 picks a free one
  -b, --bind ADDRESS      address to listen on (default: all interfaces, :: and 0.0.0.0)
      --spa               single-page app: unknown paths that accept HTML get index.html
      --cors              allow cross-origin requests (Access-Control-Allow-Origin: *)
      --no-listing        answer 404 for folders without index.html instead of listing them
      --dotfiles          serve and list hidden files (.env, .git/); hidden by default
      --follow-symlinks   follow symlinks that lead outside the folder; refused by default
      --cache SECONDS     let browsers keep files this long without asking (default 0:
                          they revalidate each time, so edits show up at once)
      --gzip              compress text files with gzip on the fly
      --brotli            compress text files with Brotli on the fly
      --live              reload open pages when a file changes (a script tag is added
                          to HTML pages; CSS changes swap stylesheets without a reload)
${TLS_HELP}      --tls-cert FILE, --tls-key FILE, --tls-password-file FILE
                          the same, with Python 3.14's names (the password
                          file's first line decrypts the key)
  -q, --quiet             do not log requests
  -h, --help              show this help

Examples:
  carafe serve                    the current folder on port 8000
  carafe serve public 3000        ./public on port 3000
  carafe serve -b 127.0.0.1 --spa dist
  carafe serve --self-signed 8443 HTTPS and HTTP/2 on https://localhost:8443/
`

const FLAGS = {
  directory: { type: 'string', short: 'd' },
  port: { type: 'string', short: 'p' },
  bind: { type: 'string', short: 'b' },
  spa: { type: 'boolean' },
  cors: { type: 'boolean' },
  'no-listing': { type: 'boolean' },
  dotfiles: { type: 'boolean' },
  'follow-symlinks': { type: 'boolean' },
  cache: { type: 'string' },
  gzip: { type: 'boolean' },
  brotli: { type: 'boolean' },
  live: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  ...TLS_FLAGS,
  ...PYTHON_TLS_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const

/** What the command line asks for. */
interface ServeSettings {
  dir: string
  port: number
  host: string | undefined
  quiet: boolean
  /** Live reload (--live). */
  live: boolean
  /** HTTPS, from --cert/--key/--self-signed; `undefined` for HTTP. */
  tls: TlsOptions | undefined
  options: StaticOptions
}

/** Read `carafe serve` arguments; a {@link UsageError} for anything that does not make sense. */
export function parseServeArgs(argv: string[]): ServeSettings | 'help' {
  const { values: v, positionals } = parseFlags(argv, FLAGS, SERVE_HELP)
  if (v.help === true) return 'help'
  let dir = typeof v.directory === 'string' ? v.directory : undefined
  let port = typeof v.port === 'string' ? parsePort(v.port, SERVE_HELP) : undefined
  // Like Python: a bare number is the port; anything else is the folder (use -d for a folder named 8080).
  for (const p of positionals) {
    if (/^\d+$/.test(p) && port === undefined) port = parsePort(p, SERVE_HELP)
    else if (dir === undefined) dir = p
    else throw new UsageError(`unexpected argument "${p}" (carafe serve takes one folder and one port; see carafe serve --help)`, SERVE_HELP)
  }
  let maxAge = 0
  if (typeof v.cache === 'string') {
    if (!/^\d+$/.test(v.cache)) throw new UsageError(`--cache takes a number of seconds, not "${v.cache}"`, SERVE_HELP)
    maxAge = Number(v.cache)
  }
  const compress = v.gzip === true || v.brotli === true ? { gzip: v.gzip === true, brotli: v.brotli === true } : false
  return {
    dir: path.resolve(dir ?? '.'),
    port: port ?? 8000,
    host: typeof v.bind === 'string' ? v.bind : undefined,
    quiet: v.quiet === true,
    live: v.live === true,
    tls: tlsOptionsFromFlags(v, SERVE_HELP),
    options: {
      listing: v['no-listing'] !== true,
      dotfiles: v.dotfiles === true,
      followSymlinks: v['follow-symlinks'] === true,
      spa: v.spa === true,
      cors: v.cors === true,
      maxAge,
      compress,
    },
  }
}

/**
 * `carafe serve [dir] [port]`: a drop-in for `python -m http.server`, with the same banner
 * and log lines. Resolves once the server has shut down (Ctrl+C or SIGTERM).
 */
export async function serveCommand(argv: string[]): Promise<void> {
  const s = parseServeArgs(argv)
  if (s === 'help') {
    process.stdout.write(SERVE_HELP)
    return
  }
  const st = statSync(s.dir, { throwIfNoEntry: false })
  if (st === undefined || !st.isDirectory()) {
    console.error(`carafe serve: ${st === undefined ? 'no such folder' : 'not a folder'}: ${s.dir}`)
    process.exitCode = 1
    return
  }
  // Live: pages are sent uncompressed so the tag can go in; the folder is watched.
  const { app } = createFolderApp(s.dir, s.live ? { ...s.options, compress: false, precompressed: false } : s.options)
  const stopWatching = s.live ? await watchLive(app, s.dir) : () => {}
  let server: CarafeServer
  try {
    // Ctrl+C should not wait long for downloads in flight (Python drops them at once).
    // A self-signed certificate is kept in the working directory's .carafe/, never in the folder served.
    const tls = s.tls !== undefined && 'selfSigned' in s.tls ? { selfSigned: true as const, dir: process.cwd() } : s.tls
    server = await listen(app, { port: s.port, host: s.host, log: s.quiet ? false : 'default', shutdownTimeout: 2000, tls })
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code?.startsWith('ERR_TLS') === true || err.code === 'ERR_MISSING_DEPENDENCY') {
      console.error(`carafe serve: cannot serve HTTPS: ${err.message}`)
      process.exitCode = 1
      return
    }
    const where = `${s.host ?? '::'} port ${s.port}`
    const why = err.code === 'EADDRINUSE' ? 'the port is already in use (pick another: carafe serve --port 8001)'
      : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
        : err.message
    console.error(`carafe serve: cannot listen on ${where}: ${why}`)
    process.exitCode = 1
    return
  }
  const h = server.host
  const scheme = server.secure ? 'https' : 'http'
  console.log(`Serving ${scheme.toUpperCase()} on ${h} port ${server.port} (${scheme}://${h.includes(':') ? `[${h}]` : h}:${server.port}/) ...`)
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(130) // a second Ctrl+C: stop waiting for slow downloads
      stopping = true
      if (signal === 'SIGINT') console.log('\nKeyboard interrupt received, exiting.')
      stopWatching()
      server.close().then(resolve, (e: unknown) => {
        console.error('carafe serve: error during shutdown:', e)
        process.exitCode = 1
        resolve()
      })
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** `--live`: the live-reload plugin on `app`, told about every change under `dir` (a burst of events is one). */
async function watchLive(app: import('../core/app.js').Carafe, dir: string): Promise<() => void> {
  const { watch } = await import('node:fs')
  const { liveReload } = await import('../server/live.js')
  const live = liveReload()
  app.use(live.plugin)
  const pending = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  const watcher = watch(dir, { recursive: true }, (_event, name) => {
    if (name === null) return
    pending.add(`/${String(name).split(path.sep).join('/')}`)
    clearTimeout(timer)
    timer = setTimeout(() => {
      const changed = [...pending]
      pending.clear()
      // Only stylesheets changed: swap them; anything else: reload the page.
      if (changed.every((p) => /\.css$/i.test(p))) for (const p of changed) live.changed(p)
      else live.changed()
    }, 50)
  })
  watcher.on('error', (e) => console.error(`carafe serve: --live stopped watching: ${e.message}`))
  return () => {
    clearTimeout(timer)
    watcher.close()
    live.close()
  }
}
