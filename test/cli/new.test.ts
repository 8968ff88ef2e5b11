import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { NEW_HELP } from '../../src/cli/new.js'
import { TEST_HELP } from '../../src/cli/test.js'
import { CLI, ROOT } from '../helpers/spawn.js'
import { Jar } from '../helpers/jar.js'

interface Ran { code: number | null; stdout: string; stderr: string; ms: number }

/** The environment of a command started here: none of this test process's node --test state. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.NODE_TEST_CONTEXT
  delete env.DATABASE_URL
  delete env.CARAFE_SECRET
  return env
}

/** Run a command to its end in `cwd`. */
function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): Promise<Ran> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: childEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - start }))
  })
}

const carafe = (args: string[], cwd: string): Promise<Ran> => run(process.execPath, [CLI, ...args], cwd)

async function tmp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-new-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * `npm install` in the generated project, for real (the file: link, the registry's
 * better-sqlite3 and kysely, from npm's cache when there), but with scripts off:
 * better-sqlite3's install script compiles SQLite when no prebuilt binary can be downloaded
 * (about 3 minutes here), so its native module is copied from this repository's own
 * better-sqlite3 of the same version instead. Scripts off also keeps npm from running
 * Carafe's `prepare` (a rebuild of dist/ under this test). CARAFE_NEW_FULL_INSTALL=1
 * installs with scripts, as a user's `npm install` does.
 */
async function npmInstall(t: TestContext, dir: string): Promise<number> {
  const full = process.env.CARAFE_NEW_FULL_INSTALL === '1'
  const r = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...(full ? [] : ['--ignore-scripts'])], dir)
  assert.equal(r.code, 0, `npm install failed:\n${r.stdout}\n${r.stderr}`)
  if (!full) {
    const version = (p: string): string => (JSON.parse(readFileSync(path.join(p, 'package.json'), 'utf8')) as { version: string }).version
    const ours = path.join(ROOT, 'node_modules/better-sqlite3')
    const theirs = path.join(dir, 'node_modules/better-sqlite3')
    assert.equal(version(theirs), version(ours), 'the installed better-sqlite3 is not the version whose build this test copies; run it with CARAFE_NEW_FULL_INSTALL=1')
    mkdirSync(path.join(theirs, 'build/Release'), { recursive: true })
    copyFileSync(path.join(ours, 'build/Release/better_sqlite3.node'), path.join(theirs, 'build/Release/better_sqlite3.node'))
  }
  t.diagnostic(`npm install${full ? '' : ' --ignore-scripts'}: ${r.ms} ms`)
  return r.ms
}

/** `npm start` in its own process group (npm, its shell and node), killed as a group. */
function npmStart(t: TestContext, dir: string): { url: Promise<string>; stop(): Promise<number | null>; output(): string } {
  const child = spawn('npm', ['start'], { cwd: dir, env: childEnv({ PORT: '0', CARAFE_HOST: '127.0.0.1' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal)
    } catch {
      // already gone
    }
  }
  t.after(() => kill('SIGKILL'))
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no banner in 20 s:\n${out}`)), 20_000)
    const take = (d: Buffer): void => {
      out += d.toString()
      const m = /Serving HTTP on \S+ port (\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${m[1]}`)
      }
    }
    child.stdout.on('data', take)
    child.stderr.on('data', take)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`npm start exited (${code}):\n${out}`)) })
  })
  return { url, output: () => out, stop: () => { kill('SIGTERM'); return exited } }
}

describe('carafe new', () => {
  it('writes a project that installs, passes its own npm test and serves its guestbook with npm start', { timeout: 240_000 }, async (t) => {
    const dir = await tmp(t)
    const made = await carafe(['new', 'myapp'], dir)
    assert.equal(made.code, 0, made.stderr)
    assert.match(made.stdout, /^ {2}cd myapp && npm install && npm start$/m)
    const app = path.join(dir, 'myapp')

    const files = (await readdir(app, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(app, path.join(e.parentPath, e.name))).sort()
    assert.equal(files.length, 10, files.join(', '))
    for (const f of ['.gitignore', 'README.md', 'app.ts', 'package.json', 'static/style.css', 'templates/base.html', 'templates/home.html', 'test/app.test.ts', 'tsconfig.json']) assert.ok(files.includes(f), f)
    assert.ok(files.some((f) => /^migrations\/\d{14}_init\.ts$/.test(f)), files.join(', '))

    const pkg = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8')) as Record<string, any>
    const ours = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }
    assert.equal(pkg.name, 'myapp')
    assert.equal(pkg.type, 'module')
    assert.equal(pkg.private, true)
    assert.deepEqual(pkg.engines, { node: '>=20' })
    assert.deepEqual(pkg.dependencies, { carafe: `file:${realpathSync(ROOT)}`, 'better-sqlite3': ours.peerDependencies['better-sqlite3'], kysely: ours.peerDependencies.kysely })
    assert.equal(pkg.devDependencies, undefined)
    assert.deepEqual(Object.keys(pkg.scripts).sort(), ['dev', 'start', 'test'])
    assert.equal(pkg.scripts.start, 'carafe run app.ts')
    assert.equal(JSON.parse(await readFile(path.join(app, 'tsconfig.json'), 'utf8')).compilerOptions.strict, true)
    assert.deepEqual((await readFile(path.join(app, '.gitignore'), 'utf8')).trim().split('\n'), ['node_modules/', 'data/', '.carafe/'])
    assert.match(await readFile(path.join(app, 'app.ts'), 'utf8'), /app\.run\(\{ port: Number\(process\.env\.PORT \?\? 8000\) \}\)/)

    await npmInstall(t, app)
    assert.equal(realpathSync(path.join(app, 'node_modules/carafe')), realpathSync(ROOT))
    // The project type-checks under its strict tsconfig.json (with this repository's
    // TypeScript and Node types: the project itself has no devDependencies).
    const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.', '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node'], app)
    assert.equal(tsc.code, 0, `tsc:\n${tsc.stdout}${tsc.stderr}`)
    t.diagnostic(`tsc: ${tsc.ms} ms`)

    const tested = await run('npm', ['test'], app)
    assert.equal(tested.code, 0, `npm test failed:\n${tested.stdout}\n${tested.stderr}`)
    assert.match(tested.stdout, /^# pass 4$/m)
    assert.match(tested.stdout, /^# fail 0$/m)
    t.diagnostic(`npm test: ${tested.ms} ms`)

    const server = npmStart(t, app)
    const url = await server.url
    const jar = new Jar()
    const go = async (p: string, init: RequestInit = {}): Promise<{ res: Response; body: string }> => {
      const res = await fetch(url + p, { redirect: 'manual', ...init, headers: { cookie: jar.header(), ...init.headers } })
      jar.take(res)
      return { res, body: await res.text() }
    }
    let { res, body } = await go('/')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(body, /<h1>Sign the guestbook<\/h1>/)
    assert.match(body, /<link rel="stylesheet" href="\/static\/style\.css">/)
    assert.match(body, /No entries yet/)
    assert.equal((await go('/static/style.css')).res.status, 200)
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1]
    assert.ok(token !== undefined, body)

    ;({ res } = await go('/', { method: 'POST', body: new URLSearchParams({ name: 'Mallory', message: 'no token' }) }))
    assert.equal(res.status, 403)
    ;({ res } = await go('/', { method: 'POST', body: new URLSearchParams({ _csrf: token, name: 'Kim', message: 'First <b>entry</b>' }) }))
    assert.equal(res.status, 303)
    ;({ res, body } = await go(res.headers.get('location')!))
    assert.equal(res.status, 200)
    assert.match(body, /Thanks for signing, Kim!/)
    assert.match(body, /First &lt;b&gt;entry&lt;\/b&gt;/)
    assert.doesNotMatch(body, /Mallory/)
    const api = await fetch(url + '/api/entries')
    assert.equal(api.status, 200)
    const entries = (await api.json() as { entries: Array<{ name: string; message: string }> }).entries
    assert.deepEqual(entries.map((e) => [e.name, e.message]), [['Kim', 'First <b>entry</b>']])
    assert.ok(existsSync(path.join(app, 'data/app.db')), 'the database is under data/')
    assert.ok(existsSync(path.join(app, 'data/sessions.db')), 'the sessions are under data/')
    await server.stop()
  })

  it('refuses a folder that is not empty unless --force, a file, and names npm would not take', async (t) => {
    const dir = await tmp(t)
    const full = path.join(dir, 'full')
    mkdirSync(full)
    await writeFile(path.join(full, 'notes.txt'), 'mine')
    let r = await carafe(['new', 'full'], dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^carafe new: full is not empty; .*--force/)
    assert.deepEqual(await readdir(full), ['notes.txt'])
    r = await carafe(['new', 'full', '--force'], dir)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await readFile(path.join(full, 'notes.txt'), 'utf8'), 'mine')
    assert.ok(existsSync(path.join(full, 'app.ts')))
    // Again with --force: the first migration is replaced, not joined by a second _init.
    const [first] = await readdir(path.join(full, 'migrations'))
    assert.match(first!, /^\d{14}_init\.ts$/)
    await rename(path.join(full, 'migrations', first!), path.join(full, 'migrations/20200101000000_init.ts'))
    r = await carafe(['new', 'full', '--force'], dir)
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(await readdir(path.join(full, 'migrations')), ['20200101000000_init.ts'])

    await writeFile(path.join(dir, 'afile'), '')
    r = await carafe(['new', 'afile', '--force'], dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /afile is a file, not a folder/)

    for (const [name, why] of [['My App', /e\.g\. my-app/], ['carafe', /depend on a package of that name/], ['.hidden', /starts with a letter or digit/], ['kysely', /depend on/]] as const) {
      r = await carafe(['new', name], dir)
      assert.equal(r.code, 2, name)
      assert.match(r.stderr, new RegExp(`^carafe: cannot use "${name.replace('.', '\\.')}" as the project's name: `), name)
      assert.match(r.stderr, why, name)
      assert.ok(!existsSync(path.join(dir, name)), name)
    }
    r = await carafe(['new'], dir)
    assert.equal(r.code, 2)
    assert.match(r.stderr, /name the folder for the project/)
    r = await carafe(['new', '--help'], dir)
    assert.equal(r.code, 0)
    assert.equal(r.stdout, NEW_HELP)
  })

  it('carafe test runs .ts test files with node --test, passes on their exit code, and says when there are none', async (t) => {
    const dir = await tmp(t)
    let r = await carafe(['test'], dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^carafe test: no test files/)
    mkdirSync(path.join(dir, 'test'))
    mkdirSync(path.join(dir, 'node_modules/dep'), { recursive: true })
    await writeFile(path.join(dir, 'node_modules/dep/x.test.ts'), "throw new Error('node_modules is not searched')\n")
    await writeFile(path.join(dir, 'lib.ts'), 'export const double = (n: number): number => n * 2\n')
    await writeFile(path.join(dir, 'test/lib.test.ts'), `import assert from 'node:assert/strict'
import { test } from 'node:test'
import { double } from '../lib.js'
const n: number = double(2)
test('double', () => assert.equal(n, Number(process.env.EXPECT ?? 4)))
`)
    r = await carafe(['test'], dir)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^# pass 1$/m)
    r = await run(process.execPath, [CLI, 'test', 'test', '--', '--test-reporter=spec'], dir, { EXPECT: '5' })
    assert.equal(r.code, 1)
    assert.match(r.stdout, /✖ double/)
    r = await carafe(['test', '--help'], dir)
    assert.equal(r.stdout, TEST_HELP)
  })
})
