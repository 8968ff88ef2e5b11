import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { appDir, spawnCli, waitForServer } from '../helpers/spawn.js'

const uid = process.getuid?.() ?? 'user'

describe('carafe run TypeScript hooks', { timeout: 60_000 }, () => {
  it('runs a planted compiled file only from a private cache folder it owns (0700), never from one others can write', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { route, run } from 'carafe'\nroute('/', () => 'real app')\nrun()\n`)
    const st = statSync(file)
    // What an attacker would plant: a "compiled" copy of app.ts that the cache would accept.
    const planted = `console.log('PLANTED CODE RAN')\n//# carafe-ts 2 ${st.size} ${st.mtimeMs} ${st.ino}\n`
    const cases: Array<[string, (cache: string, tmp: string) => void, boolean]> = [
      ['private (control: the plant is well-formed)', (cache) => mkdirSync(cache, { mode: 0o700 }), true],
      ['writable by others', (cache) => { mkdirSync(cache); chmodSync(cache, 0o777) }, false],
      ['writable by the group', (cache) => { mkdirSync(cache); chmodSync(cache, 0o770) }, false],
      ['a symlink to a folder', (cache, tmp) => { mkdirSync(path.join(tmp, 'elsewhere'), { mode: 0o700 }); symlinkSync(path.join(tmp, 'elsewhere'), cache) }, false],
    ]
    if (uid === 0) cases.push(['owned by another user', (cache) => { mkdirSync(cache, { mode: 0o700 }); chownSync(cache, 65534, 65534) }, false])
    for (const [name, make, trusted] of cases) {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'carafe-cache-test-'))
      t.after(() => rm(tmp, { recursive: true, force: true }))
      const cache = path.join(tmp, `carafe-ts-${uid}`)
      make(cache, tmp)
      writeFileSync(path.join(cache, `${createHash('sha1').update(file).digest('hex')}.js`), planted)
      const before = readdirSync(tmp).sort()
      const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1'], { TMPDIR: tmp })
      if (trusted) {
        await p.waitFor(/PLANTED CODE RAN/)
        p.child.kill('SIGTERM')
        await p.exited
        continue
      }
      const url = await waitForServer(p)
      assert.equal(await (await fetch(url)).text(), 'real app', name)
      assert.doesNotMatch(p.stdout(), /PLANTED/, name)
      assert.match(p.stderr(), new RegExp(`not using the TypeScript cache ${cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), name)
      p.child.kill('SIGTERM')
      assert.equal(await p.exited, 0, name)
      // The private folder used instead is gone after the run.
      assert.deepEqual(readdirSync(tmp).sort(), before, name)
    }
  })

  it('reports a syntax error (TypeScript or JavaScript) as one line with file:line:column and a short code frame', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    for (const [name, decl] of [['app.ts', 'const n: number = 1'], ['app.js', 'const n = 1']]) {
      const file = path.join(dir, name)
      await writeFile(file, `import { Carafe } from 'carafe'\nconst app = new Carafe()\n${decl}\napp.get('/', () => 'hi' n)\nexport default app\n`)
      const p = spawnCli(t, ['run', file, '--port', '0'])
      assert.equal(await p.exited, 1)
      assert.equal(p.stderr(), [
        `carafe: syntax error in ${file}:4:25: Expected ")" but found "n"`,
        `  3 | ${decl}`,
        `> 4 | app.get('/', () => 'hi' n)`,
        `    |                         ^`,
        `  5 | export default app`,
        '',
      ].join('\n'), name)
    }
  })
})
