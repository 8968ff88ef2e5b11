import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { appDir, spawnCli, waitForServer } from '../helpers/spawn.js'

const SIGNING_APP = `import { Carafe } from 'carafe'
const app = new Carafe()
app.get('/set', (c) => c.setCookie('sid', 'kim', { signed: true }).text('set'))
app.get('/get', (c) => c.signedCookie('sid') ?? 'none')
export default app
`

/** What a user's shell has: no secret at all (the test helper gives spawned apps a development one). */
const noSecretEnv = { CARAFE_SECRET: undefined, CARAFE_DEV_SECRET: undefined }

describe('carafe secret and the development secret', { timeout: 60_000 }, () => {
  it('carafe secret prints a fresh 32-byte random secret each time', async (t) => {
    const a = spawnCli(t, ['secret'])
    const b = spawnCli(t, ['secret'])
    assert.equal(await a.exited, 0)
    assert.equal(await b.exited, 0)
    assert.match(a.stdout(), /^[A-Za-z0-9_-]{43}\n$/)
    assert.equal(Buffer.from(a.stdout().trim(), 'base64url').length, 32)
    assert.notEqual(a.stdout(), b.stdout())
  })

  it('carafe run with no secret makes .carafe/secret (0600, git-ignored) and signs with it across restarts', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    await writeFile(file, SIGNING_APP)
    const start = async (): Promise<string> => {
      const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1'], noSecretEnv)
      const url = await waitForServer(p)
      return url
    }
    const url = await start()
    const set = await fetch(`${url}/set`)
    assert.equal(set.status, 200)
    const cookie = set.headers.get('set-cookie')!.split(';')[0]!
    const secretFile = path.join(dir, '.carafe', 'secret')
    assert.equal(statSync(secretFile).mode & 0o777, 0o600)
    assert.match(readFileSync(secretFile, 'utf8'), /^[A-Za-z0-9_-]{43}\n$/)
    assert.match(readFileSync(path.join(dir, '.carafe', '.gitignore'), 'utf8'), /^\*$/m)
    // A second start reads the same secret: the cookie still verifies.
    const again = await start()
    assert.equal(await (await fetch(`${again}/get`, { headers: { cookie } })).text(), 'kim')
  })

  it('refuses to start with CARAFE_SECRET set but empty or short, saying how to make one', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    await writeFile(file, SIGNING_APP)
    for (const secret of ['', 'password']) {
      const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1'], { CARAFE_SECRET: secret, CARAFE_DEV_SECRET: undefined })
      // Starting to serve instead of exiting is the bug: do not wait for an exit that never comes.
      assert.equal(await Promise.race([p.exited, p.waitFor(/Serving HTTP/).then(() => 'served', async () => p.exited)]), 1)
      assert.match(p.stderr(), /ERR_WEAK_SECRET/)
      assert.match(p.stderr(), /at least 32 random bytes: make one with `npx carafe secret`/)
      assert.match(p.stderr(), /CARAFE_SECRET is (empty|only 8 bytes)/)
    }
  })
})
