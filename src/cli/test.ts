import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { parseFlags, UsageError } from './args.js'

/** `carafe test --help`. */
export const TEST_HELP = `Usage: carafe test [file or folder ...] [-- node options]

Run tests with Node's test runner (node --test), TypeScript included: .ts test files and
the .ts modules they import load the way carafe run loads an app (no build step; types are
stripped, not checked). With no files, runs the test files under the current folder.

A test file is named *.test.ts or *.spec.ts (also .mts, .tsx, .js, .mjs); a folder given is
searched for them. node_modules, dist, build, coverage, data and dot folders are skipped.
Options after -- go to node, e.g. carafe test -- --test-name-pattern=login

Options:
  -h, --help              show this help
`

const TEST_FILE = /\.(test|spec)\.(ts|mts|tsx|js|mjs|cjs)$/
const SKIPPED = new Set(['node_modules', 'dist', 'build', 'coverage', 'data'])

/** `carafe test [files…] [-- node options]`: exits with the test run's exit code. */
export async function testCommand(argv: string[]): Promise<void> {
  const dash = argv.indexOf('--')
  const ours = dash === -1 ? argv : argv.slice(0, dash)
  const nodeArgs = dash === -1 ? [] : argv.slice(dash + 1)
  const { values, positionals } = parseFlags(ours, { help: { type: 'boolean', short: 'h' } }, TEST_HELP)
  if (values.help === true) return void process.stdout.write(TEST_HELP)
  const files: string[] = []
  for (const p of positionals.length === 0 ? ['.'] : positionals) {
    let st
    try {
      st = statSync(p)
    } catch {
      throw new UsageError(`no such file or folder: ${p}`, TEST_HELP)
    }
    if (st.isDirectory()) files.push(...findTests(p))
    else files.push(p)
  }
  if (files.length === 0) {
    console.error(`carafe test: no test files (*.test.ts, *.spec.ts, …) under ${positionals.length === 0 ? 'this folder' : positionals.join(', ')}`)
    process.exit(1)
  }
  const hooks = new URL('./ts-import.js', import.meta.url).href
  // A fresh run: inherited from a test runner above us, NODE_TEST_CONTEXT would make this
  // one report to that runner instead of printing.
  const env = { ...process.env }
  delete env.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, ['--import', hooks, '--test', ...nodeArgs, ...files], { stdio: 'inherit', env })
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGINT' ? 2 : 15)))
}

/** The test files under `dir`, sorted, skipping dependency, output and dot folders. */
export function findTests(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = dir === '.' ? entry.name : path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIPPED.has(entry.name)) found.push(...findTests(p))
    } else if (TEST_FILE.test(entry.name)) {
      found.push(p)
    }
  }
  return found.sort()
}
