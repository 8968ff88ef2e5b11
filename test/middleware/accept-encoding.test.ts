import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createEncodingNegotiator } from '../../src/middleware/accept-encoding.js'

describe('createEncodingNegotiator', () => {
  const choose = createEncodingNegotiator(['br', 'gzip'])

  it('picks the highest q, and br over gzip when they tie', () => {
    const cases: Array<[string | undefined, string | null]> = [
      [undefined, null],
      ['', null],
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip;q=1.0, br;q=0.999', 'gzip'],
      ['br;q=0.1, gzip;q=0.1', 'br'],
      ['deflate, gzip;q=0.001', 'gzip'],
      ['X-GZIP', 'gzip'],
      ['*', 'br'],
      ['*;q=0.5, br;q=0', 'gzip'],
      ['identity;q=1, gzip;q=0.5', null],
      ['*;q=0.1, identity;q=0.1', 'br'],
      ['br;q=0, gzip;q=0', null],
      ['*;q=0', null],
    ]
    for (const [header, want] of cases) assert.equal(choose(header).coding, want, String(header))
  })

  it('reports when the client refuses the identity', () => {
    assert.equal(choose('gzip, identity;q=0').identityRefused, true)
    assert.equal(choose('gzip, *;q=0').identityRefused, true)
    assert.equal(choose('gzip, *;q=0, identity').identityRefused, false)
    assert.equal(choose('gzip').identityRefused, false)
    const refusedAll = choose('deflate, identity;q=0')
    assert.equal(refusedAll.coding, null)
    assert.equal(refusedAll.identityRefused, true)
  })

  it('ignores entries with a malformed q and never throws', () => {
    for (const header of ['gzip;q=', 'gzip;q=1.5', 'gzip;q=.5', 'gzip;q=0.1234', 'gzip;q=NaN', ',;=,', '\u0000\uffff', 'br;;;;q=0.5x']) {
      assert.equal(choose(header).coding, null, header)
    }
    assert.equal(choose('gzip;level=9;q=0.3').coding, 'gzip')
  })

  it('honours the order of preference it was given', () => {
    const gzipFirst = createEncodingNegotiator(['gzip', 'br'])
    assert.equal(gzipFirst('br, gzip').coding, 'gzip')
    assert.equal(createEncodingNegotiator(['gzip'])('br').coding, null)
  })
})
