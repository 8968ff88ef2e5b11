import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe } from '../../src/index.js'
import { hashId, memoryStore, session, type SessionStore } from '../../src/session/index.js'
import { consumeResetToken, createResetToken, sendMail, type MailMessage } from '../../src/auth/index.js'
import { serve } from '../helpers/server.js'
import { captureErrors } from '../helpers/capture.js'
import { fakeCookieStore, later, start, user, type StartOptions } from './helpers.js'

/** An app with POST /forgot/<id> (?ttl=) mailing a reset link, and POST /reset/<token> consuming it. */
async function resetApp(t: import('node:test').TestContext, options: StartOptions = {}) {
  const outbox: MailMessage[] = []
  const s = await start(t, {
    users: [user(1), user(2)],
    ...options,
    auth: { mailer: { async send(m) { outbox.push(m) } }, ...options.auth },
    setup: (app, st) => {
      app.post('/forgot/<int:id>', async (c) => {
        const u = st.users.get(c.params.id)!
        const token = await createResetToken(c, u, { ttl: c.query('ttl') })
        await sendMail(c, { to: u.email, subject: 'Reset your password', text: `${c.req.origin}/reset/${token}` })
        return { ok: true }
      })
      app.post('/reset/<token>', async (c) => ({ id: (await consumeResetToken(c, c.params.token)) ?? null }))
    },
  })
  const forgot = async (id: number, ttl?: string): Promise<string> => {
    const res = await fetch(`${s.url}/forgot/${id}${ttl === undefined ? '' : `?ttl=${ttl}`}`, { method: 'POST' })
    assert.equal(res.status, 200)
    const link = outbox.at(-1)!.text
    return link.slice(link.lastIndexOf('/') + 1)
  }
  const reset = async (token: string): Promise<unknown> => {
    const res = await fetch(`${s.url}/reset/${encodeURIComponent(token)}`, { method: 'POST' })
    assert.equal(res.status, 200)
    return ((await res.json()) as { id: unknown }).id
  }
  return { ...s, outbox, forgot, reset }
}

describe('password reset tokens', () => {
  it('are 256-bit random, mailed through the mailer, and stored only as a hash', async (t) => {
    const store = memoryStore()
    const s = await resetApp(t, { session: { store } })
    const token = await s.forgot(1)
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual({ ...s.outbox[0], text: undefined }, { to: 'user1@example.com', subject: 'Reset your password', text: undefined })
    assert.equal(s.outbox[0]!.text, `${s.url}/reset/${token}`)
    assert.equal(await store.get(token), undefined)
    const rec = await store.get(hashId(`reset:${token}`))
    assert.equal(rec?.data.uid, 1)
    assert.ok(!JSON.stringify(rec).includes(token))
  })

  it('work once: the first use gives the user id, the second nothing', async (t) => {
    const s = await resetApp(t)
    const token = await s.forgot(1)
    assert.equal(await s.reset(token), 1)
    assert.equal(await s.reset(token), null)
    const other = await s.forgot(2)
    assert.equal(await s.reset(other), 2, 'tokens are per user and independent')
  })

  it('two requests racing with one token: exactly one wins (with a store slow enough for them to overlap)', async (t) => {
    const inner = memoryStore()
    const slow: SessionStore = { ...inner, kind: 'slow', get: async (id) => { const found = await inner.get(id); await new Promise((r) => setTimeout(r, 30)); return found } }
    const s = await resetApp(t, { session: { store: slow } })
    const token = await s.forgot(1)
    const results = await Promise.all([s.reset(token), s.reset(token), s.reset(token)])
    assert.deepEqual(results.filter((r) => r === 1).length, 1, JSON.stringify(results))
  })

  it('expire: after 1 hour by default, or their ttl', async (t) => {
    const s = await resetApp(t)
    const a = await s.forgot(1)
    assert.equal(await later(3_601_000, () => s.reset(a)), null)
    const b = await s.forgot(1)
    assert.equal(await later(3_500_000, () => s.reset(b)), 1, 'still good just before the hour')
    const c = await s.forgot(1, '5m')
    assert.equal(await later(301_000, () => s.reset(c)), null)
  })

  it('die when the password changes, even unused; forged and malformed ones give nothing, never a 500', async (t) => {
    const s = await resetApp(t)
    const token = await s.forgot(1)
    s.users.set(1, { ...s.users.get(1)!, passwordHash: 'changed elsewhere' })
    assert.equal(await s.reset(token), null)
    for (const bad of ['A'.repeat(43), 'short', 'x.y', '.a.', 'a'.repeat(3000)]) assert.equal(await s.reset(bad), null, bad)
  })
})

describe('password reset tokens with a stateless session store', () => {
  it('are signed (user id, version, expiry): they work, a tampered one does not, and they die with the password change', async (t) => {
    const s = await resetApp(t, { session: { store: fakeCookieStore() } })
    const token = await s.forgot(1)
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    const tampered = token.replace(/^[^.]+/, Buffer.from(JSON.stringify({ u: 2, v: null, e: Date.now() + 3_600_000 })).toString('base64url'))
    assert.equal(await s.reset(tampered), null)
    assert.equal(await later(3_601_000, () => s.reset(token)), null, 'expired')
    assert.equal(await s.reset(token), 1)
    // There is no store to mark it used: single use comes from the password change that follows.
    s.users.set(1, { ...s.users.get(1)!, passwordHash: 'the new one' })
    assert.equal(await s.reset(token), null)
  })
})

describe('reset tokens and sendMail without auth()', () => {
  it('are a clear error (ERR_NO_AUTH)', async (t) => {
    const app = new Carafe({ secrets: 'x'.repeat(32) })
    app.use(session())
    app.post('/a', async (c) => createResetToken(c, user(1)))
    app.post('/b', async (c) => { await sendMail(c, { to: 'a@example.com', subject: 's', text: 't' }); return 'ok' })
    const s = await serve(t, app)
    for (const path of ['/a', '/b']) {
      const { value: res, logged } = await captureErrors(() => fetch(`${s.url}${path}`, { method: 'POST' }))
      assert.equal(res.status, 500)
      assert.match(logged, /needs the auth middleware/)
    }
  })
})
