import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { assertPeerInstalled, requirePeer } from '../../src/util/peer.js'

describe('requirePeer()', () => {
  it("finds a peer the app installed that Carafe's own folder does not see (a Carafe linked in by file: or npm link)", async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-peer-'))
    const before = process.env.CARAFE_APP_FILE
    t.after(async () => {
      if (before === undefined) delete process.env.CARAFE_APP_FILE
      else process.env.CARAFE_APP_FILE = before
      await rm(dir, { recursive: true, force: true })
    })
    await mkdir(path.join(dir, 'node_modules/carafe-test-peer'), { recursive: true })
    await writeFile(path.join(dir, 'node_modules/carafe-test-peer/index.js'), 'module.exports = { from: "the app" }\n')
    const missing = { code: 'ERR_MISSING_DEPENDENCY', message: 'feature() needs the carafe-test-peer package, which is not installed: run `npm install carafe-test-peer@1` to use feature()' }
    assert.throws(() => requirePeer('carafe-test-peer', 'carafe-test-peer@1', 'feature()'), missing)
    assert.throws(() => assertPeerInstalled('carafe-test-peer', 'carafe-test-peer@1', 'feature()'), missing)
    process.env.CARAFE_APP_FILE = path.join(dir, 'app.ts')
    assert.deepEqual(requirePeer('carafe-test-peer', 'carafe-test-peer@1', 'feature()'), { from: 'the app' })
    assert.doesNotThrow(() => assertPeerInstalled('carafe-test-peer', 'carafe-test-peer@1', 'feature()'))
  })
})
