import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { hash as rawHash } from '@node-rs/argon2'
import { configurePasswords, hashPassword, needsRehash, passwordLoad, verifyPassword } from '../../src/auth/index.js'

/** Run `fn` with console.warn captured. */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ value: T; warned: string }> {
  const original = console.warn
  let warned = ''
  console.warn = (...a: unknown[]) => { warned += a.map(String).join(' ') + '\n' }
  try {
    return { value: await fn(), warned }
  } finally {
    console.warn = original
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** The most hashes seen running at once while `work` settles (sampled as each task starts and ends). */
async function peakWhile(work: Array<Promise<unknown>>): Promise<number> {
  let peak = passwordLoad().running
  const sample = (): void => { peak = Math.max(peak, passwordLoad().running) }
  const timer = setInterval(sample, 1)
  try {
    await Promise.all(work.map((p) => p.then(sample)))
  } finally {
    clearInterval(timer)
  }
  return peak
}

describe('hashPassword / verifyPassword', () => {
  it('makes a self-describing argon2id PHC string with OWASP parameters (m=19456, t=2, p=1) that verifies', async () => {
    const hash = await hashPassword('correct horse battery staple')
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    assert.equal(await verifyPassword(hash, 'correct horse battery staple'), true)
    assert.equal(await verifyPassword(hash, 'correct horse battery stapl'), false)
    assert.notEqual(await hashPassword('correct horse battery staple'), hash, 'a fresh salt each time')
  })

  it('verifies Korean (non-ASCII) passwords byte-exactly', async () => {
    const hash = await hashPassword('비밀번호-암호')
    assert.equal(await verifyPassword(hash, '비밀번호-암호'), true)
    assert.equal(await verifyPassword(hash, '비밀번호-암호 '), false)
  })

  it('an unknown user (no hash) goes through argon2 against the dummy hash and gets false, like a wrong password', async () => {
    const hash = await hashPassword('pw')
    for (const missing of [undefined, null, '']) {
      const p = verifyPassword(missing, 'pw')
      // Let the dummy hash exist and the verification start: it must be queued on the hasher.
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
      assert.ok(passwordLoad().running + passwordLoad().waiting >= 1, `verifyPassword(${String(missing)}) runs argon2`)
      assert.equal(await p, false)
    }
    // Same time, loosely: medians of a few runs each, within a factor of 3 (a 0.1 ms answer would be ~300× off).
    const unknown: number[] = []
    const wrong: number[] = []
    for (let i = 0; i < 5; i++) {
      unknown.push(await timed(() => verifyPassword(undefined, 'guess')))
      wrong.push(await timed(() => verifyPassword(hash, 'guess')))
    }
    const ratio = median(unknown) / median(wrong)
    assert.ok(ratio > 1 / 3 && ratio < 3, `unknown-user median ${median(unknown).toFixed(1)} ms vs wrong-password ${median(wrong).toFixed(1)} ms`)
  })

  it('a malformed hash gives false and a warning (that does not print the hash), never a throw', async () => {
    for (const bad of ['plaintext-password', '$2b$12$abcdefghijklmnopqrstuv', '$argon2id$v=19$m=19456,t=2,p=1$broken', '$argon2id$garbage']) {
      const { value, warned } = await captureWarnings(() => verifyPassword(bad, 'plaintext-password'))
      assert.equal(value, false, bad)
      assert.match(warned, /not a valid argon2 PHC string/, bad)
      assert.ok(!warned.includes(bad) || bad.length <= 7, 'the whole hash is not logged')
    }
  })

  it('refuses a non-string password to hash, and verifies a non-string one as false', async () => {
    await assert.rejects(hashPassword(undefined as unknown as string), TypeError)
    const hash = await hashPassword('')
    assert.equal(await verifyPassword(hash, undefined as unknown as string), false)
  })
})

describe('needsRehash', () => {
  it('is true for a hash made with weaker parameters (the rehash-on-login flow), false for a current one', async () => {
    // A hash an older release (or another library) made with weaker settings.
    const old = await rawHash('pw', { memoryCost: 4096, timeCost: 3, parallelism: 1 })
    assert.match(old, /m=4096,t=3,p=1/)
    assert.equal(needsRehash(old), true)
    // It still verifies, so the login succeeds and the app stores a new hash.
    assert.equal(await verifyPassword(old, 'pw'), true)
    const fresh = await hashPassword('pw')
    assert.equal(needsRehash(fresh), false)
    assert.equal(await verifyPassword(fresh, 'pw'), true)
  })

  it('is true for argon2i, another algorithm or garbage', async () => {
    const argon2i = await rawHash('pw', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 })
    assert.match(argon2i, /^\$argon2i\$/)
    assert.equal(needsRehash(argon2i), true)
    assert.equal(needsRehash('$2b$12$abcdefghijklmnopqrstuv'), true)
    assert.equal(needsRehash('nonsense'), true)
  })

  it('follows configurePasswords(): new parameters make older hashes need a rehash; weak ones are refused', async () => {
    const before = await hashPassword('pw')
    configurePasswords({ memoryCost: 12288, timeCost: 3 })
    try {
      assert.equal(needsRehash(before), true)
      const after = await hashPassword('pw')
      assert.match(after, /m=12288,t=3,p=1/)
      assert.equal(needsRehash(after), false)
      assert.equal(await verifyPassword(before, 'pw'), true, 'old hashes keep verifying')
      // The dummy hash follows the parameters too: unknown users still cost a current hash.
      assert.equal(await verifyPassword(undefined, 'pw'), false)
    } finally {
      configurePasswords({ memoryCost: 19456, timeCost: 2 })
    }
    assert.throws(() => configurePasswords({ memoryCost: 1024, timeCost: 1 }), /weaker than OWASP/)
    assert.throws(() => configurePasswords({ memoryCost: 19456, timeCost: 1 }), /weaker than OWASP/)
    assert.throws(() => configurePasswords({ concurrency: 0 }), /positive integer/)
    assert.equal(needsRehash(before), false, 'a refused change changed nothing')
  })
})

describe('password hashing concurrency', () => {
  it('runs at most 2 hashes at once by default; the rest wait in line and all finish', async () => {
    assert.equal(passwordLoad().concurrency, 2)
    const work = Array.from({ length: 6 }, (_, i) => hashPassword(`pw${i}`))
    assert.deepEqual({ ...passwordLoad() }, { running: 2, waiting: 4, concurrency: 2 })
    assert.equal(await peakWhile(work), 2)
    const hashes = await Promise.all(work)
    assert.equal(new Set(hashes).size, 6)
    assert.deepEqual({ ...passwordLoad() }, { running: 0, waiting: 0, concurrency: 2 })
  })

  it('configurePasswords({ concurrency }) changes the limit, for verifications too', async () => {
    const hash = await hashPassword('pw')
    configurePasswords({ concurrency: 1 })
    try {
      const work = [verifyPassword(hash, 'pw'), verifyPassword(hash, 'no'), hashPassword('x'), verifyPassword(undefined, 'pw')]
      await new Promise((r) => setImmediate(r))
      assert.equal(passwordLoad().running, 1)
      assert.equal(await peakWhile(work), 1)
      assert.deepEqual((await Promise.all(work)).map((v) => typeof v === 'string' ? 'hash' : v), [true, false, 'hash', false])
    } finally {
      configurePasswords({ concurrency: 2 })
    }
  })
})
