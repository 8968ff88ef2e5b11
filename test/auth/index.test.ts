import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const build = path.resolve(here, '../../src')

/** The CommonJS modules (argon2 and nodemailer are CommonJS) loaded after importing `entries`, in a fresh process. */
function loadedAfter(entries: string[], then = ''): string[] {
  const script = `
    ${entries.map((e) => `await import(${JSON.stringify(path.join(build, e))})`).join('\n')}
    ${then}
    const { createRequire } = await import('node:module')
    console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)))
  `
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[]
}

describe('carafe/auth entry point', () => {
  it("import 'carafe' and import 'carafe/auth' load neither argon2 nor nodemailer (they load on first use)", () => {
    const heavy = (list: string[]) => list.filter((f) => /[\\/](@node-rs[\\/]argon2|nodemailer)[\\/]/.test(f))
    assert.deepEqual(heavy(loadedAfter(['index.js'])), [])
    assert.deepEqual(heavy(loadedAfter(['index.js', 'auth/index.js'])), [])
    // The check can fail: a hash does load argon2.
    const used = loadedAfter(['auth/index.js'], `await (await import(${JSON.stringify(path.join(build, 'auth/index.js'))})).hashPassword('x')`)
    assert.ok(heavy(used).some((f) => f.includes('argon2')))
  })

  it('imports jose, argon2 and nodemailer only lazily (no static import in the compiled modules)', () => {
    const dir = path.join(build, 'auth')
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(path.join(dir, file), 'utf8')
      assert.doesNotMatch(text, /^import [^;]*from ['"](jose|@node-rs\/argon2|nodemailer)['"]/m, file)
    }
    const main = readFileSync(path.join(build, 'index.js'), 'utf8')
    assert.doesNotMatch(main, /auth\//, "carafe's main entry does not import carafe/auth")
  })

  it('package.json exports ./auth with types and default', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(here, '../../../package.json'), 'utf8')) as { exports: Record<string, unknown> }
    assert.deepEqual(pkg.exports['./auth'], { types: './dist/auth/index.d.ts', default: './dist/auth/index.js' })
  })
})
