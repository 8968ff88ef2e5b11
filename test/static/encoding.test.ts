import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chooseCoding } from '../../src/static/encoding.js'
import { createRequire } from 'node:module'
import { COMMON_TYPES, contentTypeFor, isCompressible, withCharset } from '../../src/static/mime.js'

describe('chooseCoding', () => {
  it('prefers brotli, then gzip, among the codings the client accepts', () => {
    assert.equal(chooseCoding('gzip, deflate, br', ['br', 'gzip']), 'br')
    assert.equal(chooseCoding('gzip', ['br', 'gzip']), 'gzip')
    assert.equal(chooseCoding('br;q=0, gzip;q=0.5', ['br', 'gzip']), 'gzip')
    assert.equal(chooseCoding('*', ['gzip']), 'gzip')
    assert.equal(chooseCoding('*, br;q=0', ['br']), null)
    assert.equal(chooseCoding('identity', ['br', 'gzip']), null)
    assert.equal(chooseCoding(undefined, ['br']), null)
    assert.equal(chooseCoding('br', []), null)
  })
})

describe('contentTypeFor', () => {
  it('has a built-in table that says exactly what mime-types says', () => {
    const mime = createRequire(import.meta.url)('mime-types') as typeof import('mime-types')
    for (const [ext, type] of Object.entries(COMMON_TYPES)) {
      const want = mime.contentType(ext)
      assert.ok(want !== false, ext)
      assert.equal(type, withCharset(want), ext)
    }
  })

  it('uses the mime-types library, with charset=utf-8 for text', () => {
    assert.equal(contentTypeFor('a.html'), 'text/html; charset=utf-8')
    assert.equal(contentTypeFor('A.CSS'), 'text/css; charset=utf-8')
    assert.equal(contentTypeFor('x.js'), 'text/javascript; charset=utf-8')
    assert.equal(contentTypeFor('x.json'), 'application/json; charset=utf-8')
    assert.equal(contentTypeFor('x.png'), 'image/png')
    assert.equal(contentTypeFor('Makefile'), 'application/octet-stream')
    assert.equal(contentTypeFor('x.unknown-ext'), 'application/octet-stream')
  })

  it('knows what is worth compressing', () => {
    for (const t of ['text/html; charset=utf-8', 'application/json', 'image/svg+xml', 'application/ld+json', 'text/javascript']) assert.ok(isCompressible(t), t)
    for (const t of ['image/png', 'video/mp4', 'application/zip', 'application/gzip', 'font/woff2']) assert.ok(!isCompressible(t), t)
  })
})
