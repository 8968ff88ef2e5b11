import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { etagListMatches, evaluatePreconditions, fileEtag, httpDate, ifRangeMatches, parseHttpDate } from '../../src/static/conditional.js'

const none = { ifMatch: undefined, ifNoneMatch: undefined, ifModifiedSince: undefined, ifUnmodifiedSince: undefined }
const MTIME = Date.UTC(2024, 0, 2, 3, 4, 5, 678)

describe('conditional requests', () => {
  it('makes strong ETags that change with the size and the time, to the microsecond', () => {
    assert.match(fileEtag(10, MTIME), /^"[0-9a-z]+-a"$/)
    assert.notEqual(fileEtag(10, MTIME), fileEtag(10, MTIME + 0.001))
    assert.notEqual(fileEtag(10, MTIME), fileEtag(11, MTIME))
  })

  it('formats and parses HTTP dates, refusing dates without a zone', () => {
    assert.equal(httpDate(MTIME), 'Tue, 02 Jan 2024 03:04:05 GMT')
    assert.equal(parseHttpDate('Tue, 02 Jan 2024 03:04:05 GMT'), Date.UTC(2024, 0, 2, 3, 4, 5))
    assert.equal(parseHttpDate('Tuesday, 02-Jan-24 03:04:05 GMT'), Date.UTC(2024, 0, 2, 3, 4, 5))
    assert.equal(parseHttpDate('Tue Jan  2 03:04:05 2024'), Date.UTC(2024, 0, 2, 3, 4, 5))
    assert.ok(Number.isNaN(parseHttpDate('2024-01-02')))
    assert.ok(Number.isNaN(parseHttpDate('yesterday')))
  })

  it('matches ETag lists weakly for If-None-Match and strongly for If-Match', () => {
    assert.ok(etagListMatches('"a", W/"b"', '"b"', true))
    assert.ok(!etagListMatches('"a", W/"b"', '"b"', false))
    assert.ok(etagListMatches('*', '"x"', false))
    assert.ok(!etagListMatches('"a"', '"b"', true))
  })

  it('answers 304 when the client copy is current, If-None-Match first', () => {
    const tag = fileEtag(1, MTIME)
    assert.equal(evaluatePreconditions({ ...none, ifNoneMatch: tag }, tag, MTIME), 304)
    assert.equal(evaluatePreconditions({ ...none, ifNoneMatch: '"other"', ifModifiedSince: httpDate(MTIME) }, tag, MTIME), 200)
    assert.equal(evaluatePreconditions({ ...none, ifModifiedSince: httpDate(MTIME) }, tag, MTIME), 304)
    assert.equal(evaluatePreconditions({ ...none, ifModifiedSince: httpDate(MTIME - 1000) }, tag, MTIME), 200)
    assert.equal(evaluatePreconditions({ ...none, ifModifiedSince: 'garbage' }, tag, MTIME), 200)
    assert.equal(evaluatePreconditions(none, tag, MTIME), 200)
  })

  it('answers 412 when If-Match or If-Unmodified-Since fails', () => {
    const tag = fileEtag(1, MTIME)
    assert.equal(evaluatePreconditions({ ...none, ifMatch: '"nope"' }, tag, MTIME), 412)
    assert.equal(evaluatePreconditions({ ...none, ifMatch: tag }, tag, MTIME), 200)
    assert.equal(evaluatePreconditions({ ...none, ifUnmodifiedSince: httpDate(MTIME - 5000) }, tag, MTIME), 412)
  })

  it('keeps a Range only when If-Range still names the file', () => {
    const tag = fileEtag(1, MTIME)
    assert.ok(ifRangeMatches(tag, tag, MTIME))
    assert.ok(!ifRangeMatches(`W/${tag}`, tag, MTIME))
    assert.ok(ifRangeMatches(httpDate(MTIME), tag, MTIME))
    assert.ok(!ifRangeMatches(httpDate(MTIME - 1000), tag, MTIME))
  })
})
