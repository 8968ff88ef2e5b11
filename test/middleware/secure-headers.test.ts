import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, CarafeError, secureHeaders, type CarafeOptions, type SecureHeadersOptions } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

const DEFAULT_CSP = "default-src 'self'; base-uri 'self'; frame-ancestors 'self'; object-src 'none'"
const HSTS = 'max-age=31536000; includeSubDomains'

function appWith(options?: SecureHeadersOptions, appOptions?: CarafeOptions): Carafe {
  const app = new Carafe(appOptions)
  app.use(secureHeaders(options))
  app.get('/', () => 'home')
  app.get('/own', (c) => c.header('content-security-policy', "default-src 'none'").header('x-frame-options', 'DENY').text('own'))
  app.get('/response', () => new Response('r', { headers: { 'referrer-policy': 'no-referrer' } }))
  return app
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`secureHeaders through the ${door} door`, () => {
    it('sends the default headers, and no HSTS over plain HTTP', async (t) => {
      const fetch = await open(appWith(), t)
      const res = await fetch('/')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-security-policy'), DEFAULT_CSP)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin')
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN')
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin')
      assert.equal(res.headers.get('cross-origin-resource-policy'), null)
      assert.equal(res.headers.get('strict-transport-security'), null)
      assert.equal(await res.text(), 'home')
    })

    it('keeps headers the handler set, on c or on a Response', async (t) => {
      const fetch = await open(appWith(), t)
      let res = await fetch('/own')
      assert.equal(res.headers.get('content-security-policy'), "default-src 'none'")
      assert.equal(res.headers.get('x-frame-options'), 'DENY')
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      res = await fetch('/response')
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN')
      assert.equal(await res.text(), 'r')
    })

    it('sends HSTS for X-Forwarded-Proto: https only with the app\'s trustProxy, and ignores junk values', async (t) => {
      const trusting = await open(appWith({}, { trustProxy: true }), t)
      let res = await trusting('/', { headers: { 'x-forwarded-proto': 'https' } })
      assert.equal(res.headers.get('strict-transport-security'), HSTS)
      // The nearest (trusted) proxy's value is the rightmost: a client can prepend, never override.
      res = await trusting('/', { headers: { 'x-forwarded-proto': 'http, HTTPS' } })
      assert.equal(res.headers.get('strict-transport-security'), HSTS)
      for (const junk of ['https, http', 'httpsx', ',,,', '\u00ff']) {
        res = await trusting('/', { headers: { 'x-forwarded-proto': junk } })
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('strict-transport-security'), null, junk)
        assert.equal(await res.text(), 'home')
      }
      const plain = await open(appWith(), t)
      res = await plain('/', { headers: { 'x-forwarded-proto': 'https' } })
      assert.equal(res.headers.get('strict-transport-security'), null)
    })

    it('applies overrides, drops headers set to false, and merges CSP directives over the defaults', async (t) => {
      const fetch = await open(appWith({
        contentSecurityPolicy: { scriptSrc: ["'self'", 'https://cdn.example'], objectSrc: false, 'upgrade-insecure-requests': true },
        xFrameOptions: 'DENY',
        referrerPolicy: false,
        crossOriginOpenerPolicy: false,
        crossOriginResourcePolicy: 'same-origin',
      }), t)
      const res = await fetch('/')
      assert.equal(res.headers.get('content-security-policy'), "default-src 'self'; base-uri 'self'; frame-ancestors 'self'; script-src 'self' https://cdn.example; upgrade-insecure-requests")
      assert.equal(res.headers.get('x-frame-options'), 'DENY')
      assert.equal(res.headers.get('referrer-policy'), null)
      assert.equal(res.headers.get('cross-origin-opener-policy'), null)
      assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin')
    })

    it('takes a CSP as a string, or none at all', async (t) => {
      const str = await open(appWith({ contentSecurityPolicy: "default-src 'none'" }), t)
      assert.equal((await str('/')).headers.get('content-security-policy'), "default-src 'none'")
      const none = await open(appWith({ contentSecurityPolicy: false }), t)
      assert.equal((await none('/')).headers.get('content-security-policy'), null)
    })

    it('puts the headers on 404s and on errors thrown by handlers', async (t) => {
      const app = appWith()
      app.get('/boom', () => { throw new Error('secret detail') })
      const fetch = await open(app, t)
      const quiet = t.mock.method(console, 'error', () => {})
      let res = await fetch('/missing')
      assert.equal(res.status, 404)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      res = await fetch('/boom')
      assert.equal(res.status, 500)
      assert.equal(res.headers.get('content-security-policy'), DEFAULT_CSP)
      assert.doesNotMatch(await res.text(), /secret detail/)
      quiet.mock.restore()
    })
  })
}

describe('secureHeaders over HTTPS (Fetch door)', () => {
  it('sends HSTS when the request URL is https:, unless turned off', async () => {
    let res = await appWith().request('https://localhost/')
    assert.equal(res.headers.get('strict-transport-security'), HSTS)
    res = await appWith({ strictTransportSecurity: 'max-age=60' }).request('https://localhost/')
    assert.equal(res.headers.get('strict-transport-security'), 'max-age=60')
    res = await appWith({ strictTransportSecurity: false }).request('https://localhost/')
    assert.equal(res.headers.get('strict-transport-security'), null)
  })
})

describe('secureHeaders options', () => {
  it('refuses values that could split a header or inject a CSP directive', () => {
    const bad: SecureHeadersOptions[] = [
      { contentSecurityPolicy: { scriptSrc: ["'self'; report-uri https://evil.example"] } },
      { contentSecurityPolicy: { scriptSrc: ['a,b'] } },
      { contentSecurityPolicy: { 'script src': ["'self'"] } },
      { contentSecurityPolicy: "default-src 'self'\r\nSet-Cookie: a=b" },
      { xFrameOptions: '' },
      { referrerPolicy: 'no-referrer\n' },
      { strictTransportSecurity: 7 as unknown as string },
    ]
    for (const o of bad) {
      assert.throws(() => secureHeaders(o), (e: unknown) => e instanceof CarafeError && e.code === 'ERR_SECURE_HEADERS_OPTIONS', JSON.stringify(o))
    }
  })

  it('returns a named middleware', () => {
    assert.equal(secureHeaders().name, 'secureHeaders')
  })
})
