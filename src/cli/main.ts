#!/usr/bin/env node
import { readFileSync, existsSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseFlags, parsePort, UsageError } from './args.js'

export const HELP = `Usage: carafe <command> [options]

Commands:
  serve [dir] [port]      Serve a folder over HTTP, like python -m http.server
                          (carafe serve --help for its options)
  run <file> [options]    Run an app file (.ts or .js; TypeScript needs no build step)
      --host ADDR         address to bind (default: the app's, else :: dual-stack)
      --port PORT         port to listen on (default: the app's, else 8000)
      --debug             debug mode: error pages with source for local visitors
      --reload            restart when a file in the app's folder changes
      --log FORMAT        access log: default, common, combined, json or off
  routes <file>           Print the app's route table, like flask routes

Options:
  -h, --help              show this help
  -v, --version           print the version
`

const RUN_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  debug: { type: 'boolean' },
  reload: { type: 'boolean' },
  log: { type: 'string' },
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
    case 'serve': {
      const { serveCommand } = await import('./serve.js')
      return serveCommand(rest)
    }
    case 'run':
      return runCommand(rest)
    case 'routes':
      return routesCommand(rest)
    default:
      throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`)
  }
}

async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, RUN_FLAGS)
  if (values.help === true) return void process.stdout.write(HELP)
  const file = appFile(positionals)
  if (values.host !== undefined) process.env.CARAFE_HOST = String(values.host)
  if (values.port !== undefined) process.env.CARAFE_PORT = String(parsePort(String(values.port)))
  if (values.debug === true) process.env.CARAFE_DEBUG = '1'
  if (values.log !== undefined) {
    const log = String(values.log)
    if (!['default', 'common', 'combined', 'json', 'off'].includes(log)) throw new UsageError(`--log takes default, common, combined, json or off, not "${log}"`)
    process.env.CARAFE_LOG = log
  }
  process.env.CARAFE_APP_FILE = file
  if (values.reload === true) {
    const { runWithReloader } = await import('./reloader.js')
    const childArgv = [fileURLToPath(import.meta.url), 'run', file, ...argv.filter((a) => a !== '--reload' && a !== file)]
    return runWithReloader(file, childArgv)
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

async function routesCommand(argv: string[]): Promise<void> {
  const { positionals } = parseFlags(argv, {})
  const file = appFile(positionals)
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

function appFile(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the app file, e.g. carafe run app.ts' : `one app file, please (got ${positionals.join(' ')})`)
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
    // .ts lines. Carafe itself is loaded first, so its own modules skip the hooks' worker.
    await import('../index.js')
    const { register } = await import('node:module')
    register(new URL('./ts-hooks.js', import.meta.url))
    process.setSourceMapsEnabled(true)
  }
  return import(pathToFileURL(file).href) as Promise<Record<string, unknown>>
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
      process.stderr.write(HELP)
      process.exit(2)
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
