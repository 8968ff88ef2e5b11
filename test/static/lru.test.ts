import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LruCache } from '../../src/static/lru.js'

describe('LruCache', () => {
  it('stays within its cost and entry bounds', () => {
    const c = new LruCache<number>(100, 5)
    for (let i = 0; i < 50; i++) c.set(`k${i}`, i, 30)
    assert.ok(c.cost <= 100)
    assert.equal(c.size, 3)
    const d = new LruCache<number>(1000, 5)
    for (let i = 0; i < 50; i++) d.set(`k${i}`, i, 1)
    assert.equal(d.size, 5)
    assert.equal(d.cost, 5)
  })

  it('keeps recently used entries over unused ones', () => {
    const c = new LruCache<string>(3, 100)
    c.set('a', 'A', 1)
    c.set('b', 'B', 1)
    c.set('c', 'C', 1)
    assert.equal(c.get('a'), 'A')
    c.set('d', 'D', 1)
    assert.equal(c.get('a'), 'A')
    assert.equal(c.get('b'), undefined)
    assert.equal(c.cost, 3)
  })

  it('refuses an entry larger than the whole budget, and accounts growth', () => {
    const c = new LruCache<string>(10, 100)
    c.set('big', 'x', 11)
    assert.equal(c.size, 0)
    c.set('a', 'A', 4)
    c.set('b', 'B', 4)
    c.grow('a', 4)
    assert.ok(c.cost <= 10)
    c.delete('a')
    c.delete('b')
    assert.equal(c.cost, 0)
  })
})
