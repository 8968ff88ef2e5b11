import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseFlags, UsageError } from './args.js'
import { timestamp } from './db.js'
import { projectFiles } from './new-template.js'

/** `carafe new --help`. */
export const NEW_HELP = `Usage: carafe new <dir> [--force]

Write a new Carafe project into <dir> (made if missing): a guestbook app (app.ts) with
pages from templates/, a stylesheet in static/, a SQLite database with its first migration,
sessions, a CSRF-protected form, flash messages, a JSON route, and a test (test/app.test.ts).
Its package.json depends on this Carafe by its folder (file:…), and on better-sqlite3 and
kysely. Then: cd <dir> && npm install && npm start

Options:
      --force             write into a folder that is not empty (files of the same name
                          are replaced; others are left alone)
  -h, --help              show this help
`

/** The drivers the generated app uses, at the ranges of Carafe's own peerDependencies. */
const DRIVERS = ['better-sqlite3', 'kysely']

/** Names that would clash with the project's own dependencies or npm's folders. */
const RESERVED = new Set(['carafe', ...DRIVERS, 'node_modules', 'favicon.ico'])

/** `carafe new <dir> [--force]`. */
export async function newCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, NEW_HELP)
  if (values.help === true) return void process.stdout.write(NEW_HELP)
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the folder for the project, e.g. carafe new myapp' : `one folder, please (got ${positionals.join(' ')})`, NEW_HELP)
  const dir = path.resolve(positionals[0]!)
  const name = path.basename(dir)
  const problem = nameProblem(name)
  if (problem !== undefined) throw new UsageError(`cannot use "${name}" as the project's name: ${problem}`, NEW_HELP)
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) fail(`${positionals[0]} is a file, not a folder`)
    if (readdirSync(dir).length > 0 && values.force !== true) fail(`${positionals[0]} is not empty; pick a new folder, or pass --force to write into it (files of the same name are replaced)`)
  }
  const carafe = carafePackage()
  const drivers: Record<string, string> = {}
  for (const d of DRIVERS) {
    const range = carafe.peerDependencies?.[d]
    if (range === undefined) throw new Error(`carafe's package.json has no peerDependencies.${d}`)
    drivers[d] = range
  }
  const files = projectFiles({ name, carafeRoot: carafe.root, drivers, stamp: initStamp(dir) ?? timestamp(new Date()) })
  for (const [file, text] of Object.entries(files)) {
    const to = path.join(dir, ...file.split('/'))
    await mkdir(path.dirname(to), { recursive: true })
    await writeFile(to, text)
  }
  const shown = path.relative(process.cwd(), dir) || '.'
  const cd = shown === '.' ? '' : `cd ${shellQuote(shown)} && `
  console.log(`Made a Carafe project in ${shown === '.' ? 'this folder' : shown}: ${Object.keys(files).join(', ')}

Next:

  ${cd}npm install && npm start

then open http://localhost:8000/. npm test runs the tests; npm run dev restarts on changes.`)
}

/** Why `name` cannot be the package name, or `undefined` when it can. */
export function nameProblem(name: string): string | undefined {
  if (RESERVED.has(name.toLowerCase())) return 'the project would depend on a package of that name'
  if (name.length > 214) return 'it is longer than npm allows (214 characters)'
  if (!/^[a-z0-9][a-z0-9._~-]*$/.test(name)) {
    const fix = name.toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[^a-z0-9]+|-+$/g, '')
    return `it becomes the npm package name, which takes lowercase letters, digits, - . _ ~ and starts with a letter or digit${fix === '' ? '' : ` (e.g. ${fix})`}`
  }
  return undefined
}

/** The timestamp of an `_init` migration an earlier `carafe new` wrote here: --force replaces it rather than adding a second one. */
function initStamp(dir: string): string | undefined {
  try {
    return readdirSync(path.join(dir, 'migrations')).map((f) => /^(\d{14})_init\.ts$/.exec(f)?.[1]).find((s) => s !== undefined)
  } catch {
    return undefined
  }
}

interface CarafePackage {
  root: string
  peerDependencies?: Record<string, string>
}

/** This Carafe's package folder (found from this file, through any symlink) and its package.json. */
function carafePackage(): CarafePackage {
  let dir = path.dirname(realpathSync(fileURLToPath(import.meta.url)))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; peerDependencies?: Record<string, string> }
      if (pkg.name === 'carafe') return { root: dir, ...(pkg.peerDependencies === undefined ? {} : { peerDependencies: pkg.peerDependencies }) }
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('carafe new: cannot find the carafe package folder above its own files')
    dir = up
  }
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

function fail(message: string): never {
  console.error(`carafe new: ${message}`)
  process.exit(1)
}
