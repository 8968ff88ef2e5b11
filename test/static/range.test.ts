import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseRange } from '../../src/static/range.js'

describe('parseRange', () => {
  it('reads first-last, first- and -suffix forms', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 })
    assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'partial', start: 900, end: 999 })
    assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 })
    assert.deepEqual(parseRange('Bytes = 5-5', 10), { kind: 'partial', start: 5, end: 5 })
  })

  it('clamps the end and a suffix longer than the file', () => {
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { kind: 'partial', start: 990, end: 999 })
    assert.deepEqual(parseRange('bytes=-5000', 1000), { kind: 'partial', start: 0, end: 999 })
  })

  it('is unsatisfiable when no range starts inside the file', () => {
    assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' })
    assert.deepEqual(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' })
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' })
    assert.deepEqual(parseRange('bytes=2000-3000, 4000-', 1000), { kind: 'unsatisfiable' })
  })

  it('ignores what it cannot read (the full 200 is sent)', () => {
    for (const h of ['bytes=', 'bytes=a-b', 'bytes=5-1', 'items=0-1', 'bytes 0-1', 'bytes=--1', 'bytes=1-2-3', `bytes=${'1-2,'.repeat(100)}`]) {
      assert.deepEqual(parseRange(h, 1000), { kind: 'full' }, h)
    }
  })

  it('merges overlapping or touching ranges, and answers disjoint ones with the full file', () => {
    assert.deepEqual(parseRange('bytes=0-9, 5-19, 20-29', 100), { kind: 'partial', start: 0, end: 29 })
    assert.deepEqual(parseRange('bytes=0-9, 50-59', 100), { kind: 'full' })
    assert.deepEqual(parseRange('bytes=0-9, 5000-', 100), { kind: 'partial', start: 0, end: 9 })
  })
})
