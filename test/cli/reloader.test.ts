import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { appDir, ROOT, spawnCli, type Spawned } from '../helpers/spawn.js'

const app = (word: string): string => `import { route, run } from 'carafe'\nroute('/', () => '${word}')\nrun()\n`

/** Each start prints a banner; wait for the `n`th one and return its URL. */
async function nthServer(p: Spawned, n: number): Promise<string> {
  const m = await p.waitFor(new RegExp(`(?:[^]*?Serving HTTP on \\S+ port (\\d+)){${n}}`))
  return `http://127.0.0.1:${m[1]}`
}

/** Stop the reloader with SIGTERM (it stops its child) before the helper's SIGKILL could orphan the child. */
async function stop(p: Spawned): Promise<void> {
  p.child.kill('SIGTERM')
  assert.equal(await p.exited, 0)
}

async function tempApp(t: TestContext): Promise<{ dir: string; file: string }> {
  const dir = await appDir()
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'app.ts')
  await writeFile(file, app('version 1'))
  return { dir, file }
}

describe('carafe run --reload', { timeout: 60_000 }, () => {
  it('works with a relative app path, and keeps seeing a file that is saved by replacing it', async (t) => {
    const { file } = await tempApp(t)
    // spawnCli runs in the repository root: give the path relative to it, as a user types it.
    const p = spawnCli(t, ['run', path.relative(ROOT, file), '--port', '0', '--host', '127.0.0.1', '--reload'])
    try {
      assert.equal(await (await fetch(await nthServer(p, 1))).text(), 'version 1')
      // Saved the way sed -i and editors do: a new file renamed over the old one, twice.
      for (const [n, word] of [[2, 'version 2'], [3, 'version 3']] as const) {
        await writeFile(`${file}.tmp`, app(word))
        await rename(`${file}.tmp`, file)
        assert.equal(await (await fetch(await nthServer(p, n))).text(), word)
      }
      assert.doesNotMatch(p.stderr(), /one app file|exited with code/)
    } finally {
      await stop(p)
    }
  })

  it('ignores uploads, data folders and database files by default, and --ignore globs', async (t) => {
    const { dir, file } = await tempApp(t)
    await mkdir(path.join(dir, 'uploads'))
    await mkdir(path.join(dir, 'logs'))
    const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1', '--reload', '--ignore', 'logs/', '--ignore', '*.csv'])
    try {
      await nthServer(p, 1)
      await writeFile(path.join(dir, 'uploads', 'photo.png'), 'png')
      await mkdir(path.join(dir, 'data', 'deep'), { recursive: true })
      await writeFile(path.join(dir, 'data', 'deep', 'x.json'), '{}')
      for (const name of ['app.db', 'app.db-wal', 'app.db-shm', 'app.db-journal', 'report.csv']) await writeFile(path.join(dir, name), 'x')
      await writeFile(path.join(dir, 'logs', 'today.txt'), 'log')
      await mkdir(path.join(dir, 'node_modules', 'pkg'), { recursive: true })
      await writeFile(path.join(dir, 'node_modules', 'pkg', 'index.js'), '')
      // Then a change that counts: the restart must name it, and be the only one.
      await writeFile(path.join(dir, 'view.html'), '<p>hi</p>')
      await nthServer(p, 2)
      const detected = p.stdout().match(/Detected change in '([^']+)'/g) ?? []
      assert.deepEqual(detected, [`Detected change in '${path.join(dir, 'view.html')}'`])
    } finally {
      await stop(p)
    }
  })
})
