import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/spawn.js'

const build = (p: string): string => JSON.stringify(path.join(ROOT, 'build/src', p))

/** A `--require` hook that makes `names` unresolvable, as Node does when they are not installed. */
const hide = (names: string[]): string => `const Module = require('node:module')
const hidden = new Set(${JSON.stringify(names)})
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (hidden.has(request)) {
    const e = new Error("Cannot find module '" + request + "'\\nRequire stack: ...")
    e.code = 'MODULE_NOT_FOUND'
    throw e
  }
  return resolve.call(this, request, ...rest)
}
`

async function runHidden(names: string[], main: string): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-db-nopeer-'))
  try {
    await writeFile(path.join(dir, 'hide.cjs'), hide(names))
    await writeFile(path.join(dir, 'main.mjs'), main)
    const child = spawn(process.execPath, ['--require', path.join(dir, 'hide.cjs'), path.join(dir, 'main.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    assert.equal(code, 0, err)
    return JSON.parse(out) as Record<string, unknown>
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('carafe/db without its optional drivers', () => {
  it('names the package to install for the URL, when the app starts', async () => {
    const result = await runHidden(['better-sqlite3', 'pg', 'mysql2'], `import { Carafe } from ${build('index.js')}
import { database } from ${build('db/index.js')}
const out = {}
for (const url of ['sqlite::memory:', 'postgres://postgres@127.0.0.1:1/test', 'mysql://root@127.0.0.1:1/test']) {
  const app = new Carafe()
  app.use(database(url).middleware())
  app.get('/', () => 'ok')
  try {
    const server = await app.listen({ port: 0, host: '127.0.0.1' })
    await server.close()
    out[url] = 'started'
  } catch (e) {
    out[url] = { code: e.code, message: e.message }
  }
}
console.log(JSON.stringify(out))
`)
    assert.deepEqual(result, {
      'sqlite::memory:': { code: 'ERR_MISSING_DEPENDENCY', message: 'database("sqlite:…") needs the better-sqlite3 package, which is not installed: run `npm install better-sqlite3@12` to use database("sqlite:…")' },
      'postgres://postgres@127.0.0.1:1/test': { code: 'ERR_MISSING_DEPENDENCY', message: 'database("postgres://…") needs the pg package, which is not installed: run `npm install pg@8` to use database("postgres://…")' },
      'mysql://root@127.0.0.1:1/test': { code: 'ERR_MISSING_DEPENDENCY', message: 'database("mysql://…") needs the mysql2 package, which is not installed: run `npm install mysql2@3` to use database("mysql://…")' },
    })
  })

  it('asks only for the driver the URL needs (SQLite runs with pg and mysql2 missing)', async () => {
    const result = await runHidden(['pg', 'mysql2'], `import { database, sql } from ${build('db/index.js')}
const db = database('sqlite::memory:')
const { rows } = await sql\`select 1 + 1 as two\`.execute(db.kysely)
await db.close()
console.log(JSON.stringify(rows[0]))
`)
    assert.deepEqual(result, { two: 2 })
  })

  it('names kysely, pinned to ~0.28, when the query builder itself is missing', async () => {
    const result = await runHidden(['kysely'], `const out = {}
try {
  await import(${build('db/index.js')})
  out.imported = true
} catch (e) {
  out.error = { code: e.code, message: e.message }
}
const carafe = await import(${build('index.js')})
out.core = typeof carafe.Carafe
console.log(JSON.stringify(out))
`)
    assert.deepEqual(result, {
      error: { code: 'ERR_MISSING_DEPENDENCY', message: 'carafe/db needs the kysely package, which is not installed: run `npm install kysely@~0.28` to use carafe/db' },
      core: 'function',
    })
  })
})
