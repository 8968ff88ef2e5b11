import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePath, toSafePath } from '../../src/static/safe-path.js'

function check(raw: string, dotfiles = false): ReturnType<typeof toSafePath> | 'bad-encoding' {
  const d = decodePath(raw)
  return d === null ? 'bad-encoding' : toSafePath(d, { dotfiles })
}

describe('toSafePath', () => {
  it('splits a plain path into its segments', () => {
    assert.deepEqual(toSafePath('/docs/a b/나의 비밀 방.txt'), { ok: true, segments: ['docs', 'a b', '나의 비밀 방.txt'], key: 'docs/a b/나의 비밀 방.txt' })
    assert.deepEqual(toSafePath('/'), { ok: true, segments: [], key: '' })
    assert.deepEqual(toSafePath(''), { ok: true, segments: [], key: '' })
  })

  it('skips empty segments as Python and nginx do', () => {
    assert.deepEqual(toSafePath('//a///b/'), { ok: true, segments: ['a', 'b'], key: 'a/b' })
  })

  it('refuses every spelling of .. once decoded', () => {
    for (const raw of ['/..', '/../x', '/a/../../x', '/%2e%2e/x', '/%2E%2E/x', '/..%2fx', '/%2e%2e%2fetc%2fpasswd', '/a/%2e%2e', '/.', '/a/./b', '/%2e/x']) {
      const r = check(raw)
      assert.ok(r !== 'bad-encoding' && !r.ok && r.status === 404, raw)
    }
  })

  it('never decodes twice: %252e%252e is the literal name %2e%2e, which is not ..', () => {
    assert.deepEqual(check('/%252e%252e/x'), { ok: true, segments: ['%2e%2e', 'x'], key: '%2e%2e/x' })
  })

  it('refuses backslashes (a separator on Windows)', () => {
    for (const raw of ['/a\\b', '/%5c..%5cx', '/..\\x', '/%5C']) {
      const r = check(raw)
      assert.ok(r !== 'bad-encoding' && !r.ok && r.status === 404, raw)
    }
  })

  it('refuses NUL with 400', () => {
    const r = check('/a%00.txt')
    assert.ok(r !== 'bad-encoding' && !r.ok && r.status === 400)
  })

  it('treats malformed and overlong UTF-8 as a bad encoding', () => {
    for (const raw of ['/%c0%ae%c0%ae/x', '/%e0%80%ae', '/%', '/%zz', '/%ff', '/%ed%a0%80']) assert.equal(check(raw), 'bad-encoding', raw)
  })

  it('hides dotfiles unless allowed, but always serves /.well-known/', () => {
    for (const raw of ['/.env', '/.git/config', '/a/.htpasswd']) {
      const r = check(raw)
      assert.ok(r !== 'bad-encoding' && !r.ok && r.status === 404, raw)
      assert.ok((check(raw, true) as { ok: boolean }).ok, raw)
    }
    assert.ok((check('/.well-known/security.txt') as { ok: boolean }).ok)
    assert.ok(!(check('/a/.well-known/x') as { ok: boolean }).ok)
  })

  it('refuses paths and names longer than a file system allows', () => {
    assert.equal((toSafePath('/' + 'a'.repeat(256)) as { status: number }).status, 404)
    assert.equal((toSafePath('/a'.repeat(3000)) as { status: number }).status, 404)
    assert.ok(toSafePath('/' + 'a'.repeat(255)).ok)
  })
})
