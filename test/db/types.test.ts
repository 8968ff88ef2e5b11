import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { ROOT } from '../helpers/spawn.js'

const FIXTURE = path.join(ROOT, 'test/db/typing/app.ts')

/** Type-check `source` as the fixture file (on its own program, with the project's options); the diagnostics as `line: message`. */
function typeErrors(source: string): string[] {
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.base.json'), (f) => ts.sys.readFile(f))
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT)
  const host = ts.createCompilerHost({ ...options, noEmit: true })
  const readFile = host.readFile.bind(host)
  host.readFile = (f) => (path.resolve(f) === FIXTURE ? source : readFile(f))
  const program = ts.createProgram([FIXTURE], { ...options, noEmit: true }, host)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file === undefined || d.start === undefined ? 0 : d.file.getLineAndCharacterOfPosition(d.start).line + 1
    return `${d.file === undefined ? '' : path.relative(ROOT, d.file.fileName)}:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

describe('c.db types (ContextVariables augmented with db: Kysely<DB>)', () => {
  const source = readFileSync(FIXTURE, 'utf8')

  it('infers row types and rejects unknown tables and columns (test/db/typing/app.ts compiles clean)', () => {
    assert.deepEqual(typeErrors(source), [])
  })

  it('fails where the fixture expects errors, once the @ts-expect-error lines are removed', () => {
    const errors = typeErrors(source.replace(/^\s*\/\/ @ts-expect-error.*$/gm, ''))
    const expected = source.split('\n').filter((l) => /@ts-expect-error/.test(l)).length
    assert.equal(errors.length, expected, errors.join('\n'))
    assert.ok(errors.every((e) => e.startsWith('test/db/typing/app.ts:')), errors.join('\n'))
    assert.match(errors.join('\n'), /"body"/)
    assert.match(errors.join('\n'), /"email"/)
  })

  it('notices a wrong inferred row type', () => {
    const wrong = source.replace('expectType<Equal<typeof titles, Array<{ id: number; title: string }>>>(true)', 'expectType<Equal<typeof titles, Array<{ id: string; title: string }>>>(true)')
    assert.notEqual(wrong, source)
    assert.equal(typeErrors(wrong).length, 1)
  })
})
