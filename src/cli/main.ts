#!/usr/bin/env node
import { readFileSync, existsSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { nearest, parseFlags, parsePort, UsageError } from './args.js'
import { TLS_FLAGS, TLS_HELP, tlsOptionsFromFlags, tlsToEnv } from './tls-flags.js'

export const HELP = `Usage: carafe <command> [options]

Commands:
  serve [dir] [port]      Serve a folder over HTTP, like python -m http.server
                          (carafe serve --help for its options)
  start <file> [options]  Serve an app in production: workers, graceful drain and
                          rolling reload (carafe start --help for its options)
  run <file> [options]    Run an app file (.ts or .js; TypeScript needs no build step)
      --host ADDR         address to bind (default: the app's, else :: dual-stack)
      --port PORT         port to listen on (default: the app's, else 8000)
      --debug             debug mode: error pages with source for local visitors
      --reload            restart when a file in the app's folder changes
      --ignore GLOB       with --reload: do not restart for files matching GLOB (repeatable)
      --log FORMAT        access log: default, common, combined, json or off
      --cert FILE, --key FILE, --self-signed   serve HTTPS and HTTP/2
  routes <file>           Print the app's route table, like flask routes
  new <dir> [--force]     Write a new project (an app, templates, a database, a test)
                          into <dir>: then cd <dir> && npm install && npm start
  test [files]            Run tests with node --test, .ts files included (no build step)
  secret                  Print a fresh random secret for CARAFE_SECRET
  db <command>            Migrations and the database: new, migrate, rollback, status,
                          types, seed (carafe db --help for each)

Options:
  -h, --help              show this help
  -v, --version           print the version
`

/** `carafe run --help`. */
export const RUN_HELP = `Usage: carafe run <file> [options]

Run an app file (.ts or .js; TypeScript needs no build step).

Options:
      --host ADDR         address to bind (default: the app's, else :: dual-stack)
  -p, --port PORT         port to listen on (default: the app's, else 8000)
      --debug             debug mode: error pages with source for local visitors
      --reload            restart when a file in the app's folder changes
      --ignore GLOB       with --reload: do not restart for files matching GLOB, e.g.
                          'logs/' or '*.csv' (repeatable; node_modules, .git, .carafe,
                          uploads/, data/ and *.db, *-wal, *-shm, *-journal are ignored)
      --log FORMAT        access log: default, common, combined, json or off
${TLS_HELP}  -h, --help              show this help
`

/** `carafe routes --help`. */
export const ROUTES_HELP = `Usage: carafe routes <file>

Print the app's route table (name, methods, pattern), like flask routes.
`

/** `carafe secret --help`. */
export const SECRET_HELP = `Usage: carafe secret

Print a fresh random secret (32 random bytes, base64url) to use as CARAFE_SECRET or in
new Carafe({ secrets: [...] }).
`

const COMMANDS = ['new', 'serve', 'start', 'run', 'routes', 'test', 'secret', 'db', 'help']

const RUN_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  debug: { type: 'boolean' },
  reload: { type: 'boolean' },
  ignore: { type: 'string', multiple: true },
  log: { type: 'string' },
  ...TLS_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const

/** The `carafe` command line. */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP)
      return
    case '-v':
    case '--version':
      console.log(version())
      return
    case 'new': {
      const { newCommand } = await import('./new.js')
      return newCommand(rest)
    }
    case 'test': {
      const { testCommand } = await import('./test.js')
      return testCommand(rest)
    }
    case 'serve': {
      const { serveCommand } = await import('./serve.js')
      return serveCommand(rest)
    }
    case 'run':
      return runCommand(rest)
    case 'start': {
      const { startCommand } = await import('./start.js')
      return startCommand(rest)
    }
    case '__worker':
      return workerCommand(rest[0]!)
    case '__primary':
      return primaryCommand(rest[0]!)
    case 'routes':
      return routesCommand(rest)
    case 'secret':
      return secretCommand(rest)
    case 'db': {
      const { dbCommand } = await import('./db.js')
      return dbCommand(rest)
    }
    default: {
      if (command.startsWith('-')) throw new UsageError(`unknown option ${command}`)
      const near = nearest(command, COMMANDS)
      throw new UsageError(`unknown command "${command}"${near === undefined ? '' : ` (did you mean ${near}?)`}`)
    }
  }
}

async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, RUN_FLAGS, RUN_HELP)
  if (values.help === true) return void process.stdout.write(RUN_HELP)
  if (values.ignore !== undefined && values.reload !== true) throw new UsageError('--ignore only applies with --reload', RUN_HELP)
  const file = appFile(positionals, RUN_HELP)
  if (values.host !== undefined) process.env.CARAFE_HOST = String(values.host)
  if (values.port !== undefined) process.env.CARAFE_PORT = String(parsePort(String(values.port), RUN_HELP))
  if (values.debug === true) process.env.CARAFE_DEBUG = '1'
  if (values.log !== undefined) {
    const log = String(values.log)
    if (!['default', 'common', 'combined', 'json', 'off'].includes(log)) throw new UsageError(`--log takes default, common, combined, json or off, not "${log}"`, RUN_HELP)
    process.env.CARAFE_LOG = log
  }
  tlsToEnv(tlsOptionsFromFlags(values, RUN_HELP))
  process.env.CARAFE_APP_FILE = file
  // The reloader's children inherit all of this through the environment, so each start is
  // warned once and the secret is made once.
  if (process.env.CARAFE_RELOAD !== '1') {
    const { moduleTypeWarning } = await import('./module-type.js')
    const warning = moduleTypeWarning(file)
    if (warning !== undefined) console.error(warning)
    // Development only: with no CARAFE_SECRET, a secret kept in <app folder>/.carafe/secret.
    // `carafe start` (production) must not do this: it will require CARAFE_SECRET.
    if (process.env.CARAFE_SECRET === undefined && process.env.CARAFE_DEV_SECRET === undefined) {
      const { devSecret } = await import('./dev-secret.js')
      try {
        process.env.CARAFE_DEV_SECRET = devSecret(path.dirname(file))
      } catch (e) {
        console.error(`carafe: warning: no development secret (${(e as Error).message}); signed cookies need CARAFE_SECRET (make one with carafe secret)`)
      }
    }
  }
  if (values.reload === true) {
    const { runWithReloader } = await import('./reloader.js')
    const ignore = Array.isArray(values.ignore) ? values.ignore : []
    return runWithReloader(file, [fileURLToPath(import.meta.url), 'run', file], ignore)
  }
  if (process.env.CARAFE_RELOAD === '1' && process.channel !== undefined) {
    // The reloader was killed without passing SIGTERM on: do not outlive it.
    process.channel.unref()
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  }
  const mod = await importApp(file)
  const { RUN_APPS } = await import('../server/run-state.js')
  // A script that exports an app without calling run() on it gets run here.
  if (RUN_APPS.length === 0) {
    const app = findApp(mod)
    if (app === undefined) {
      console.error(`carafe: ${file} neither calls run() nor exports an app (export default app)`)
      process.exit(1)
    }
    await app.run()
  }
}

/** A `carafe start` worker (forked by the supervisor): load the app and serve what the supervisor hands over. */
async function workerCommand(file: string): Promise<void> {
  const { startHeartbeat, reportFatal } = await import('../server/worker.js')
  startHeartbeat()
  process.env.CARAFE_APP_FILE = file
  try {
    const mod = await importApp(file)
    const { RUN_APPS } = await import('../server/run-state.js')
    if (RUN_APPS.length === 0) {
      const app = findApp(mod)
      if (app === undefined) throw new Error(`${file} neither calls run() nor exports an app (export default app)`)
      await app.run()
    }
  } catch (e) {
    reportFatal(e instanceof Error ? e.message.split('\n')[0]! : String(e))
    throw e
  }
}

/** The short-lived child of `carafe start` that runs the app's `onPrimary` hooks (migrations) with the code as it is now. */
async function primaryCommand(file: string): Promise<void> {
  process.env.CARAFE_NO_LISTEN = '1'
  process.env.CARAFE_APP_FILE = file
  const mod = await importApp(file)
  const { RUN_APPS } = await import('../server/run-state.js')
  const app = (RUN_APPS[0] ?? findApp(mod)) as (Runnable & { runPrimary?: () => Promise<void> }) | undefined
  if (app === undefined) {
    console.error(`carafe: ${file} neither calls run() nor exports an app (export default app)`)
    process.exit(1)
  }
  await app.runPrimary?.()
  process.exit(0)
}

async function secretCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { help: { type: 'boolean', short: 'h' } }, SECRET_HELP)
  if (values.help === true) return void process.stdout.write(SECRET_HELP)
  if (positionals.length > 0) throw new UsageError(`carafe secret takes no arguments (got ${positionals.join(' ')})`, SECRET_HELP)
  const { randomSecret } = await import('./dev-secret.js')
  console.log(randomSecret())
}

async function routesCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { help: { type: 'boolean', short: 'h' } }, ROUTES_HELP)
  if (values.help === true) return void process.stdout.write(ROUTES_HELP)
  const file = appFile(positionals, ROUTES_HELP)
  process.env.CARAFE_NO_LISTEN = '1'
  process.env.CARAFE_APP_FILE = file
  const mod = await importApp(file)
  const { RUN_APPS } = await import('../server/run-state.js')
  const app = RUN_APPS[0] ?? findApp(mod)
  if (app === undefined) {
    console.error(`carafe: ${file} neither calls run() nor exports an app (export default app)`)
    process.exit(1)
  }
  const rows = new Map<string, { name: string; methods: string[]; pattern: string }>()
  for (const r of app.routes()) {
    const key = `${r.pattern}\0${r.name ?? ''}`
    const row = rows.get(key) ?? { name: r.name ?? '-', methods: [], pattern: r.pattern }
    row.methods.push(r.method)
    rows.set(key, row)
  }
  const table = [...rows.values()].map((r) => [r.name, r.methods.join(', '), r.pattern])
  const head = ['Name', 'Methods', 'Pattern']
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...table.map(line)].join('\n'))
  process.exit(0)
}

function appFile(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the app file, e.g. carafe run app.ts' : `one app file, please (got ${positionals.join(' ')})`, usage)
  const file = path.resolve(positionals[0]!)
  if (!existsSync(file)) {
    console.error(`carafe: no such file: ${positionals[0]}`)
    process.exit(1)
  }
  return file
}

async function importApp(file: string): Promise<Record<string, unknown>> {
  if (/\.(ts|tsx|mts)$/.test(file)) {
    // TypeScript runs without a build step: ts-hooks compiles each module as it loads
    // (esbuild, cached), with source maps, so stack traces and the debug page point at the
    // .ts lines.
    const { registerTypeScript } = await import('./ts-register.js')
    await registerTypeScript()
  }
  try {
    return await import(pathToFileURL(file).href) as Record<string, unknown>
  } catch (e) {
    // Node 20 reports a syntax error in an ES module with neither file nor line.
    if (e instanceof SyntaxError && /\.m?js$/.test(file)) {
      const { locateSyntaxError } = await import('./syntax-error.js')
      throw (await locateSyntaxError(file)) ?? e
    }
    throw e
  }
}

interface Runnable {
  run(): Promise<unknown>
  routes(): Array<{ method: string; pattern: string; name: string | undefined }>
}

function findApp(mod: Record<string, unknown>): Runnable | undefined {
  for (const v of [mod.default, mod.app]) {
    if (typeof v === 'object' && v !== null && typeof (v as Runnable).run === 'function' && typeof (v as Runnable).routes === 'function') return v as Runnable
  }
  return undefined
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return `carafe ${pkg.version} (node ${process.version})`
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realPath(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`carafe: ${e.message}\n`)
      process.stderr.write(e.usage ?? HELP)
      process.exit(2)
    }
    // A syntax error in the app's TypeScript: the location and a code frame say it all.
    if (e instanceof Error && e.name === 'CarafeSyntaxError') {
      console.error(`carafe: syntax error in ${e.message}`)
      process.exit(1)
    }
    console.error(e)
    process.exit(1)
  })
}

function realPath(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return p
  }
}
