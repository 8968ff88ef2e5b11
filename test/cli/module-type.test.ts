import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { appDir, ROOT, spawnCli, waitForServer } from '../helpers/spawn.js'

const INDEX = pathToFileURL(path.join(ROOT, 'dist/index.js')).href

describe('carafe run and package.json "type"', { timeout: 60_000 }, () => {
  it('warns once when the nearest package.json makes the app CommonJS for tsc, and not when it says module', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const source = `import { Carafe } from '${INDEX}'\nconst app = new Carafe()\napp.get('/', () => 'ok')\nexport default app\n`
    const cases: Array<[string, Record<string, unknown>, RegExp | null]> = [
      ['commonjs', { name: 'x', version: '1.0.0', type: 'commonjs' }, /says "type": "commonjs", but carafe run loads app\.ts as an ES module[^]*Set "type": "module" in package\.json/],
      ['untyped', { name: 'x', version: '1.0.0' }, /has no "type" \(so CommonJS\)[^]*Set "type": "module"/],
      ['esm', { name: 'x', type: 'module' }, null],
    ]
    for (const [name, pkg, warning] of cases) {
      const project = path.join(dir, name)
      await mkdir(path.join(project, 'src'), { recursive: true })
      await writeFile(path.join(project, 'package.json'), JSON.stringify(pkg))
      const file = path.join(project, 'src', 'app.ts') // the nearest package.json is a folder up
      await writeFile(file, source)
      const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1', '--reload'])
      const url = await waitForServer(p)
      assert.equal(await (await fetch(url)).text(), 'ok')
      await writeFile(file, source.replace("'ok'", "'ok 2'"))
      await p.waitFor(/Serving HTTP on[^]*Serving HTTP on/)
      p.child.kill('SIGTERM')
      assert.equal(await p.exited, 0)
      if (warning === null) assert.doesNotMatch(p.stderr(), /warning/, name)
      else {
        assert.match(p.stderr(), warning, name)
        assert.ok(p.stderr().includes(path.join(project, 'package.json')), name)
        // Once per `carafe run`, not once per restart.
        assert.equal(p.stderr().match(/warning/g)!.length, 1, name)
      }
    }
  })
})
