import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { hashId } from '../../src/session/session.js'
import { Keyring } from '../../src/session/secrets.js'
import type { SessionPatch, SessionStore, StoreEnv } from '../../src/session/store.js'

/** What the conformance suite needs to know about one store. */
export interface StoreSubject {
  /**
   * A new store, not opened yet: the suite opens it with {@link testEnv} and closes it after the
   * test, then runs what was given to `defer` (remove its files, its keys).
   */
  make(t: TestContext, defer: (cleanup: () => unknown) => void): SessionStore | Promise<SessionStore>
  /** Run first in each test: false when the test must not run (a service that is not there, see needService). */
  available?(t: TestContext): Promise<boolean>
}

/** The secret the suite's stores get their keys from. */
export const TEST_SECRET = 'conformance-suite-secret-0123456789abcdef'

/** A store environment like the app's: `root` for relative paths, keys derived from `secrets`. */
export function testEnv(secrets: readonly string[] = [TEST_SECRET], root = tmpdir()): StoreEnv {
  const ring = new Keyring(secrets)
  return { root, key: (p) => ring.key(p), keys: (p) => ring.keys(p) }
}

/** An id as the session middleware gives server stores: the SHA-256 of a fresh 256-bit cookie id. */
export function freshId(): string {
  return hashId(randomBytes(32).toString('base64url'))
}

/**
 * The shared conformance suite: every session store runs it (Django's sessions tests run one
 * mixin against every backend). Stateless stores (`stateless: true`, the cookie store) get the
 * id back from each write and are held to what they can do: the cases they cannot meet by
 * nature (different keys changed at once, destroy) check the documented behaviour instead.
 *
 * @example
 * describeStoreConformance('memoryStore', { make: () => memoryStore() })
 */
export function describeStoreConformance(name: string, subject: StoreSubject): void {
  /** Open a new store for this test, closed when it ends; `null` when the test may not run. */
  async function setup(t: TestContext): Promise<Harness | null> {
    if (subject.available !== undefined && !(await subject.available(t))) return null
    const cleanups: Array<() => unknown> = []
    const store = await subject.make(t, (fn) => cleanups.push(fn))
    t.after(async () => {
      await store.close?.()
      for (const fn of cleanups) await fn()
    })
    await store.open?.(testEnv())
    return new Harness(store)
  }

  describe(`${name}: SessionStore conformance`, () => {
    it('gives undefined for a session it does not know', async (t) => {
      const h = await setup(t)
      if (h === null) return
      assert.equal(await h.store.get(freshId()), undefined)
      if (h.stateless) {
        for (const junk of ['', 'x', 'not base64 !', randomBytes(200).toString('base64url'), 'A'.repeat(5000)]) {
          assert.equal(await h.store.get(junk), undefined, `junk ${junk.slice(0, 20)}`)
        }
      }
    })

    it('creates a session with create: true, and get returns its data and expiry', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const id = await h.create({ a: 1, s: 'text' }, 60)
      const got = await h.store.get(id)
      assert.ok(got !== undefined, 'the session exists')
      assert.deepEqual(got.data, { a: 1, s: 'text' })
      assert.ok(Math.abs(got.expires - (Date.now() + 60_000)) < 2000, `expires in about 60 s, got ${got.expires - Date.now()} ms`)
      // What get returns is the caller's own copy.
      got.data.a = 99
      ;(got.data as { extra?: number }).extra = 1
      assert.deepEqual((await h.store.get(id))!.data, { a: 1, s: 'text' })
    })

    it('changes nothing when a patch without create reaches a missing session', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const id = h.stateless ? '' : freshId()
      const out = await h.store.apply(id, { set: { a: 1 } }, 60)
      if (h.stateless) assert.equal(out, undefined, 'no cookie comes back for a session that is not there')
      else assert.equal(await h.store.get(id), undefined)
      if (!h.stateless) {
        // Nor after a destroy: a request still running after logout cannot bring the session back.
        const gone = await h.create({ a: 1 })
        await h.store.destroy(gone)
        await h.store.apply(gone, { set: { b: 2 } }, 60)
        assert.equal(await h.store.get(gone), undefined)
      }
    })

    it('applies a patch: sets and deletes keys and leaves the others', async (t) => {
      const h = await setup(t)
      if (h === null) return
      let id = await h.create({ a: 1, b: 2, c: 3, both: 'old' })
      id = await h.patch(id, { set: { b: 20, d: 4, both: 'new' }, delete: ['c', 'never-set', 'both'] })
      assert.deepEqual((await h.store.get(id))!.data, { a: 1, b: 20, d: 4, both: 'new' }, 'a key both deleted and set in one patch is set')
      id = await h.patch(id, { delete: ['a', 'b', 'd', 'both'] })
      const empty = await h.store.get(id)
      assert.ok(empty !== undefined, 'a session whose keys are all deleted still exists')
      assert.deepEqual(empty.data, {})
      id = await h.patch(id, { set: { back: true } })
      assert.deepEqual((await h.store.get(id))!.data, { back: true })
    })

    it('keeps both changes when concurrent patches change different keys', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const id = await h.create({ base: 0 })
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
      const outs = await Promise.all(keys.map((k, i) => h.store.apply(id, { set: { [k]: i } }, 60)))
      if (h.stateless) {
        // Documented exception: each request gets a cookie with its own change only; the browser keeps the last.
        for (const [i, out] of outs.entries()) {
          assert.equal(typeof out, 'string')
          assert.deepEqual((await h.store.get(out as string))!.data, { base: 0, [keys[i]!]: i })
        }
        return
      }
      const expected: Record<string, number> = { base: 0 }
      keys.forEach((k, i) => { expected[k] = i })
      assert.deepEqual((await h.store.get(id))!.data, expected)
    })

    it('lets the last write win for the same key', async (t) => {
      const h = await setup(t)
      if (h === null) return
      let id = await h.create({ x: 0 })
      id = await h.patch(id, { set: { x: 1 } })
      id = await h.patch(id, { set: { x: { v: 2 } } })
      assert.deepEqual((await h.store.get(id))!.data, { x: { v: 2 } })
      if (!h.stateless) {
        await Promise.all([h.store.apply(id, { set: { x: 'first' } }, 60), h.store.apply(id, { set: { x: 'second' } }, 60)])
        assert.equal((await h.store.get(id))!.data.x, 'second', 'patches sent in order apply in order')
      }
    })

    it('expires a session after its ttl; touch and every write extend it; touch creates nothing', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const short = await h.create({ n: 1 }, 1)
      let touched = await h.create({ n: 2 }, 1)
      let written = await h.create({ n: 3 }, 1)
      touched = await h.touch(touched, 60)
      written = await h.patch(written, { set: { m: 1 } }, 60)
      const missing = h.stateless ? 'nothing-sealed-here' : freshId()
      const out = await h.store.touch(missing, 60)
      if (h.stateless) assert.equal(out, undefined)
      assert.equal(await h.store.get(missing), undefined, 'a touch creates no session')
      assert.ok((await h.store.get(short)) !== undefined, 'alive before its ttl')
      await sleep(1300)
      assert.equal(await h.store.get(short), undefined, 'gone after its ttl')
      const t2 = await h.store.get(touched)
      assert.deepEqual(t2?.data, { n: 2 }, 'the touched session lives on, unchanged')
      assert.ok(t2!.expires - Date.now() > 55_000, 'with the new expiry')
      assert.deepEqual((await h.store.get(written))?.data, { n: 3, m: 1 }, 'a write sets the expiry too')
      // A session past its ttl stays gone: no patch brings it back.
      const after = await h.store.apply(short, { set: { n: 9 } }, 60)
      assert.equal(await h.store.get(h.stateless && typeof after === 'string' ? after : short), undefined)
      assert.equal(await h.store.touch(short, 60) ?? undefined, undefined)
      assert.equal(await h.store.get(short), undefined)
    })

    it('forgets a destroyed session; destroying a missing one is fine', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const id = await h.create({ a: 1 })
      const other = await h.create({ b: 2 })
      await h.store.destroy(id)
      await h.store.destroy(h.stateless ? 'junk' : freshId())
      if (h.stateless) {
        // Documented exception: nothing on the server to forget; a copied cookie stays valid until it expires.
        assert.deepEqual((await h.store.get(id))?.data, { a: 1 })
        return
      }
      assert.equal(await h.store.get(id), undefined)
      assert.deepEqual((await h.store.get(other))?.data, { b: 2 }, 'other sessions stay')
    })

    it('round-trips JSON values: nested, unicode, every JSON type, odd keys', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const data: Record<string, unknown> = {
        text: '안녕하세요 🍵 "quotes" \\ back\nslash\ttab \u0000 nul \u2028',
        lone: 'half a pair: \ud800',
        nested: { a: [1, { b: [null, true, false] }], empty: {}, list: [] },
        num: -1.5e300,
        zero: 0,
        int: Number.MAX_SAFE_INTEGER,
        empty: '',
        nil: null,
        'dotted.key': 1,
        'key "quoted" \\': 2,
        '한글 키': 3,
        '$created': 1_700_000_000_000,
        ['__proto__']: { polluted: true },
      }
      const id = await h.create(data)
      const got = (await h.store.get(id))!.data
      assert.deepEqual(got, data)
      assert.ok(Object.prototype.hasOwnProperty.call(got, '__proto__'), '__proto__ comes back as a key, not a prototype')
      assert.equal(({} as { polluted?: boolean }).polluted, undefined)
      // JSON's own conversions: a Date becomes its text.
      const id2 = await h.patch(id, { set: { when: new Date(0) } })
      assert.equal((await h.store.get(id2))!.data.when, '1970-01-01T00:00:00.000Z')
    })

    it('rejects a value JSON cannot carry with a TypeError and leaves the session as it was', async (t) => {
      const h = await setup(t)
      if (h === null) return
      const id = await h.create({ a: 1 })
      const circular: Record<string, unknown> = {}
      circular.self = circular
      // Top level: nothing JSON can carry. Nested: JSON drops undefined and functions, but not these.
      const cases: Array<[string, unknown]> = [
        ['BigInt', 10n], ['circular', circular], ['undefined', undefined], ['function', () => 1], ['symbol', Symbol('s')],
        ['nested BigInt', { ok: 1, no: [10n] }], ['nested circular', { ok: 1, no: circular }],
      ]
      for (const [what, bad] of cases) {
        await assert.rejects(h.store.apply(id, { set: { a: 2, b: bad }, delete: ['a'] }, 60), TypeError, what)
        assert.deepEqual((await h.store.get(id))!.data, { a: 1 }, `nothing of the refused patch is kept (${what})`)
      }
      const missing = h.stateless ? '' : freshId()
      await assert.rejects(h.store.apply(missing, { set: { x: 10n }, create: true }, 60), TypeError)
      if (!h.stateless) assert.equal(await h.store.get(missing), undefined, 'no session was created')
    })
  })
}

/** One opened store and the id bookkeeping that stateless stores need (each write returns the new id). */
class Harness {
  readonly store: SessionStore
  readonly stateless: boolean
  constructor(store: SessionStore) {
    this.store = store
    this.stateless = store.stateless === true
  }

  /** Make a session holding `data`; returns its id. */
  async create(data: Record<string, unknown>, ttl = 60): Promise<string> {
    const id = this.stateless ? '' : freshId()
    const out = await this.store.apply(id, { set: data, create: true }, ttl)
    if (!this.stateless) return id
    assert.equal(typeof out, 'string', 'a stateless store returns the new id')
    return out as string
  }

  /** Apply `patch` to an existing session; returns its (possibly new) id. */
  async patch(id: string, patch: SessionPatch, ttl = 60): Promise<string> {
    const out = await this.store.apply(id, patch, ttl)
    if (!this.stateless) return id
    assert.equal(typeof out, 'string', 'a stateless store returns the new id')
    return out as string
  }

  async touch(id: string, ttl: number): Promise<string> {
    const out = await this.store.touch(id, ttl)
    if (!this.stateless) return id
    assert.equal(typeof out, 'string', 'a stateless store returns the new id from touch')
    return out as string
  }
}
