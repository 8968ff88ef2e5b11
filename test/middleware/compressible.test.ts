import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCompressibleCheck } from '../../src/middleware/compressible.js'

describe('createCompressibleCheck', () => {
  const compressible = createCompressibleCheck()

  it('says yes to text, JSON, JavaScript, XML, SVG and what mime-db marks compressible', () => {
    for (const type of ['text/html; charset=utf-8', 'TEXT/CSS', 'application/json', 'application/vnd.api+json', 'application/javascript',
      'application/xml', 'application/atom+xml', 'image/svg+xml', 'font/ttf', 'application/wasm', 'application/x-www-form-urlencoded']) {
      assert.equal(compressible(type), true, type)
    }
  })

  it('says no to compressed media, octet streams, server-sent events and nonsense', () => {
    for (const type of ['image/png', 'image/jpeg', 'video/mp4', 'application/zip', 'font/woff2', 'application/octet-stream',
      'text/event-stream', 'text/event-stream; charset=utf-8', '', ';', '__proto__', 'constructor', 'x/'.repeat(300)]) {
      assert.equal(compressible(type), false, type)
    }
  })
})
