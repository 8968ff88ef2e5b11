import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, signValue, unsignValue } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

for (const [door, open] of Object.entries(DOORS)) {
  describe(`cookies through the ${door} door`, () => {
    it('sets cookies with secure defaults, and deletes them', async (t) => {
      const app = new Carafe()
      app.get('/set', (c) => c.setCookie('theme', 'dark mode', { maxAge: 3600 }).setCookie('b', '1', { sameSite: 'strict', httpOnly: false }).text('ok'))
      app.get('/del', (c) => c.deleteCookie('theme').text('gone'))
      const fetch = await open(app, t)
      const res = await fetch('/set')
      assert.deepEqual(res.headers.getSetCookie(), [
        'theme=dark%20mode; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax',
        'b=1; Path=/; SameSite=Strict',
      ])
      const del = (await fetch('/del')).headers.get('set-cookie')!
      assert.match(del, /^theme=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/)
    })

    it('adds Secure behind a trusted proxy that says https, and not otherwise', async (t) => {
      const trusted = new Carafe({ trustProxy: true })
      trusted.get('/', (c) => c.setCookie('a', '1').text(c.req.protocol))
      const fetch = await open(trusted, t)
      const res = await fetch('/', { headers: { 'x-forwarded-proto': 'https' } })
      assert.equal(await res.text(), 'https')
      assert.match(res.headers.get('set-cookie')!, /; Secure/)
      const untrusted = new Carafe()
      untrusted.get('/', (c) => c.setCookie('a', '1').text(c.req.protocol))
      const fetch2 = await open(untrusted, t)
      const res2 = await fetch2('/', { headers: { 'x-forwarded-proto': 'https' } })
      assert.equal(await res2.text(), 'http')
      assert.doesNotMatch(res2.headers.get('set-cookie')!, /Secure/)
    })

    it('refuses cookie names that could inject a header', async (t) => {
      const app = new Carafe()
      app.get('/', (c) => c.setCookie('a=b; x', 'v').text('no'))
      app.onError((e, c) => c.text(`refused: ${(e as Error).message}`, 500))
      const fetch = await open(app, t)
      const res = await fetch('/')
      assert.equal(res.headers.get('set-cookie'), null)
      assert.match(await res.text(), /refused/)
    })

    it('signs cookies with the newest secret, verifies with all, and reads tampered ones as absent', async (t) => {
      const [NEW, OLD] = ['n'.repeat(32), 'o'.repeat(32)]
      const app = new Carafe({ secrets: [NEW, OLD] })
      const old = new Carafe({ secrets: OLD })
      app.get('/set', (c) => c.setCookie('sid', 'user-1', { signed: true }).text('ok'))
      app.get('/get', (c) => ({ sid: c.signedCookie('sid') ?? null, raw: c.cookie('sid') ?? null }))
      const fetch = await open(app, t)
      const set = (await fetch('/set')).headers.get('set-cookie')!
      const value = decodeURIComponent(set.split(';')[0]!.slice('sid='.length))
      assert.equal(value, signValue('sid', 'user-1', app.key('cookie')))
      const get = async (cookie: string): Promise<unknown> => (await (await fetch('/get', { headers: { cookie } })).json() as { sid: unknown }).sid
      assert.equal(await get(`sid=${encodeURIComponent(value)}`), 'user-1')
      assert.equal(await get(`sid=${encodeURIComponent(signValue('sid', 'user-1', old.key('cookie')))}`), 'user-1')
      assert.equal(await get(`sid=${encodeURIComponent(signValue('sid', 'admin', 'guessed'))}`), null)
      // The raw secret is not the cookie key: only the key derived for 'cookie' signs.
      assert.equal(await get(`sid=${encodeURIComponent(signValue('sid', 'user-1', NEW))}`), null)
      assert.equal(await get(`sid=${encodeURIComponent(value.replace('user-1', 'user-2'))}`), null)
      assert.equal(await get('sid=user-1'), null)
      assert.equal(await get('sid=%E0%A4%A'), null)
      assert.equal(await get(`other=${encodeURIComponent(value)}`), null)
    })
  })
}

describe('unsignValue', () => {
  it('binds the signature to the cookie name', () => {
    const signed = signValue('sid', 'v', 's')
    assert.equal(unsignValue('sid', signed, ['s']), 'v')
    assert.equal(unsignValue('other', signed, ['s']), undefined)
    assert.equal(unsignValue('sid', signed, []), undefined)
  })
})
