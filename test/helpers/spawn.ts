import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

/** The repository root (tests run from build/test/…). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
/** The compiled CLI entry point. */
export const CLI = path.join(ROOT, 'dist/cli/main.js')

/** A temporary folder inside the package (so `import 'carafe'` resolves to this package). */
export async function appDir(): Promise<string> {
  await mkdir(path.join(ROOT, 'build/tmp'), { recursive: true })
  return mkdtemp(path.join(ROOT, 'build/tmp/app-'))
}

/** A spawned CLI process and what it printed so far. */
export interface Spawned {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the first match of `re` on stdout (or on `stream`), or rejects after `ms`. */
  waitFor(re: RegExp, ms?: number, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>
  /** Resolves with the exit code. */
  exited: Promise<number | null>
}

/**
 * A development secret for spawned apps, so `carafe run` does not write `.carafe/secret`
 * into the example folders it is pointed at (pass `CARAFE_DEV_SECRET: undefined` to see it do so).
 */
const TEST_DEV_SECRET = 'carafe-tests-development-secret-0123456789'

/** Spawn `node dist/cli/main.js ...args`, killed when the test ends; `undefined` in `env` removes a variable. */
export function spawnCli(t: TestContext, args: string[], env: Record<string, string | undefined> = {}): Spawned {
  const merged: Record<string, string | undefined> = { CARAFE_DEV_SECRET: TEST_DEV_SECRET, ...process.env, ...env }
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k]
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const waiters: Array<() => void> = []
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters.slice()) w() })
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); for (const w of waiters.slice()) w() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { for (const w of waiters.slice()) w(); resolve(code) }))
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, ms = 10_000, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}\n${err}`)), ms)
        const check = (): void => {
          const m = (stream === 'stdout' ? out : err).match(re)
          if (m !== null) {
            clearTimeout(timer)
            waiters.splice(waiters.indexOf(check), 1)
            resolve(m)
          } else if (child.exitCode !== null) {
            clearTimeout(timer)
            reject(new Error(`process exited (${child.exitCode}) before ${re}:\n${out}\n${err}`))
          }
        }
        waiters.push(check)
        check()
      })
    },
  }
}

/** Wait for the `Serving HTTP on HOST port N` banner and return a base URL. */
export async function waitForServer(p: Spawned): Promise<string> {
  const m = await p.waitFor(/Serving HTTP on (\S+) port (\d+)/)
  const host = m[1]!.includes(':') ? (m[1] === '::' ? '127.0.0.1' : `[${m[1]}]`) : m[1] === '0.0.0.0' ? '127.0.0.1' : m[1]
  return `http://${host}:${m[2]}`
}
