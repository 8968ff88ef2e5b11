import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CarafeError } from '../../src/index.js'
import { loadDotEnv, requireSecret } from '../../src/cli/dotenv.js'

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-dotenv-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe('loadDotEnv()', () => {
  it('loads <dir>/.env without replacing variables already set', async (t) => {
    const dir = await tempDir(t)
    const set = `CARAFE_TEST_SET_${process.pid}`
    const fresh = `CARAFE_TEST_FRESH_${process.pid}`
    await writeFile(path.join(dir, '.env'), `${set}=from-file\n${fresh}="from file"\n# a comment\n`)
    process.env[set] = 'from-env'
    t.after(() => { delete process.env[set]; delete process.env[fresh] })
    assert.equal(loadDotEnv(dir), path.join(dir, '.env'))
    assert.equal(process.env[set], 'from-env')
    assert.equal(process.env[fresh], 'from file')
  })

  it('returns null when there is no .env', async (t) => {
    assert.equal(loadDotEnv(await tempDir(t)), null)
  })
})

describe('requireSecret()', () => {
  it('refuses a missing or empty CARAFE_SECRET, saying how to make one', () => {
    for (const env of [{}, { CARAFE_SECRET: '' }, { CARAFE_DEV_SECRET: 'd'.repeat(43) }]) {
      assert.throws(() => requireSecret(env), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_NO_SECRET' && /carafe start needs CARAFE_SECRET; make one with `carafe secret`/.test(e.message))
    }
  })

  it('refuses a short one and returns a good one', () => {
    assert.throws(() => requireSecret({ CARAFE_SECRET: 'short' }), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_WEAK_SECRET')
    const secret = 's'.repeat(43)
    assert.deepEqual(requireSecret({ CARAFE_SECRET: secret }), [secret])
  })
})
