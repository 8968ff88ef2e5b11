import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, hkdfSync } from 'node:crypto'
import { Carafe, CarafeError, deriveKey, signValue } from '../../src/index.js'
import { serve } from '../helpers/server.js'

const STRONG = 's'.repeat(32)
const cookieValue = (res: Response): string => decodeURIComponent(res.headers.get('set-cookie')!.split(';')[0]!.split('=').slice(1).join('='))

describe('app secrets', () => {
  it('refuses an empty or short secret at new Carafe(), saying how to make one', () => {
    for (const secrets of ['', 'short', 'x'.repeat(31), [STRONG, ''], [STRONG, 'old-and-short'], 'é'.repeat(15)]) {
      assert.throws(() => new Carafe({ secrets }), (e: unknown) => {
        assert.ok(e instanceof CarafeError)
        assert.equal(e.code, 'ERR_WEAK_SECRET')
        assert.match(e.message, /at least 32 .*bytes.*carafe secret/)
        return true
      }, JSON.stringify(secrets))
    }
    // 32 bytes, not 32 characters: 16 two-byte characters pass.
    assert.doesNotThrow(() => new Carafe({ secrets: ['é'.repeat(16), STRONG] }))
  })

  it('does not let an empty secret sign: a cookie forged with the empty key is never accepted', async (t) => {
    const app = new Carafe({ secrets: STRONG })
    app.get('/who', (c) => c.signedCookie('user') ?? 'nobody')
    const s = await serve(t, app)
    const forged = `admin.${createHmac('sha256', '').update('user=admin').digest('base64url')}`
    const res = await fetch(`${s.url}/who`, { headers: { cookie: `user=${encodeURIComponent(forged)}` } })
    assert.equal(await res.text(), 'nobody')
  })

  it('derives one HKDF key per purpose; cookies are signed with the cookie key, newest signs, all verify', async (t) => {
    const OLD = 'o'.repeat(40)
    const app = new Carafe({ secrets: [STRONG, OLD] })
    const expected = Buffer.from(hkdfSync('sha256', STRONG, '', 'carafe/cookie', 32))
    assert.deepEqual(app.key('cookie'), expected)
    assert.deepEqual(deriveKey(STRONG, 'cookie'), expected)
    assert.equal(app.key('cookie'), app.key('cookie'), 'cached per app and purpose')
    assert.notDeepEqual(app.key('session'), app.key('cookie'))
    assert.notDeepEqual(app.key('token'), app.key('session'))
    assert.equal(app.keys('session').length, 2)
    assert.deepEqual(app.keys('session')[1], deriveKey(OLD, 'session'))
    app.get('/set', (c) => c.setCookie('sid', 'u1', { signed: true }).text('ok'))
    app.get('/get', (c) => c.signedCookie('sid') ?? 'none')
    const s = await serve(t, app)
    const signed = cookieValue(await fetch(`${s.url}/set`))
    assert.equal(signed, signValue('sid', 'u1', app.key('cookie')))
    const get = async (v: string): Promise<string> => (await fetch(`${s.url}/get`, { headers: { cookie: `sid=${encodeURIComponent(v)}` } })).text()
    assert.equal(await get(signed), 'u1')
    assert.equal(await get(signValue('sid', 'u1', deriveKey(OLD, 'cookie'))), 'u1')
    // A value signed for another purpose does not pass as a cookie.
    assert.equal(await get(signValue('sid', 'u1', app.key('session'))), 'none')
  })

  it('without a secret, app.keys() is empty and app.key() / signing fail with ERR_NO_SECRET', () => {
    const app = new Carafe({ secrets: [] })
    assert.deepEqual(app.keys('cookie'), [])
    assert.throws(() => app.key('session'), { code: 'ERR_NO_SECRET', message: /carafe secret/ })
  })
})
