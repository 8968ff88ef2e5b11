import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { appDir, ROOT } from '../helpers/spawn.js'

const APP = `import { Carafe } from 'carafe'
export const app = new Carafe()
app.get('/', () => 'hello from the app')
app.run({ host: '127.0.0.1', port: 0 })
`

const APP_TEST = `import { test } from 'node:test'
import assert from 'node:assert/strict'
import { app } from './app.js'
test('the app answers in-process', async () => {
  assert.equal(await (await app.request('/')).text(), 'hello from the app')
})
`

/** Run node with `args` in `cwd`; resolves with the exit code and output, or null when it is still running after `ms` (then it is killed). */
function runNode(t: TestContext, args: string[], env: Record<string, string | undefined>, ms = 15_000): Promise<{ code: number | null; out: string } | null> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env }
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k]
  const child = spawn(process.execPath, args, { cwd: ROOT, env: merged as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null) }, ms)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }) })
  })
}

describe('run() in tests', () => {
  it('does not listen inside node --test, so a test importing an app that calls run() exits', async (t) => {
    const dir = await appDir()
    await writeFile(path.join(dir, 'app.js'), APP)
    await writeFile(path.join(dir, 'app.test.js'), APP_TEST)
    // A fresh runner: this test's own NODE_TEST_CONTEXT must not leak into it.
    const result = await runNode(t, ['--test', path.join(dir, 'app.test.js')], { NODE_TEST_CONTEXT: undefined, CARAFE_TESTING: undefined })
    assert.notEqual(result, null, 'node --test never exited: run() kept a server open')
    assert.equal(result!.code, 0, result!.out)
    assert.match(result!.out, /# pass 1/)
  })

  it('does not listen with CARAFE_TESTING=1 under any runner, and listens with CARAFE_TESTING=0', async (t) => {
    const dir = await appDir()
    await writeFile(path.join(dir, 'app.js'), APP)
    const quiet = await runNode(t, [path.join(dir, 'app.js')], { NODE_TEST_CONTEXT: undefined, CARAFE_TESTING: '1' })
    assert.notEqual(quiet, null, 'CARAFE_TESTING=1 still listened')
    assert.equal(quiet!.code, 0)
    const served = await runNode(t, [path.join(dir, 'app.js')], { NODE_TEST_CONTEXT: 'child-v8', CARAFE_TESTING: '0' }, 3000)
    assert.equal(served, null, 'CARAFE_TESTING=0 should serve until stopped')
  })
})
