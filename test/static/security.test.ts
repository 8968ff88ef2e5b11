import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { createFolderApp } from '../../src/static/index.js'
import { rawRequest, serve } from '../helpers/server.js'
import { CLI } from '../helpers/spawn.js'
import { get, serveFolder, tempTree } from './helpers.js'

const SECRET = 'TOP-SECRET-DO-NOT-LEAK'

/** A root folder `root/` next to a secret file and folder outside it. */
async function layout(t: TestContext): Promise<{ base: string; root: string }> {
  const base = await tempTree(t, {
    'secret.txt': SECRET,
    'outside/secret.txt': SECRET,
    'root/sub/file.txt': 'inside',
    'root/.env': `KEY=${SECRET}`,
    'root/.git/config': SECRET,
    'root/.well-known/security.txt': 'Contact: mailto:x@example.com',
    'root/evil.example/x.txt': 'not a host',
  })
  return { base, root: path.join(base, 'root') }
}

const TRAVERSALS = [
  '/../secret.txt', '/../../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt',
  '/%2e%2e%2fsecret.txt', '/..%2fsecret.txt', '/sub/%2e%2e/%2e%2e/secret.txt', '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt', '/..\\secret.txt', '/%5c..%5csecret.txt', '/..%5csecret.txt', '/sub\\..\\..\\secret.txt',
  '//../secret.txt', '/.%2e/secret.txt', '/%2e./secret.txt', '/%c0%ae%c0%ae/secret.txt', '/%c0%ae%c0%ae%c0%afsecret.txt',
  '/%e0%80%ae%e0%80%ae/secret.txt', '/..%00/secret.txt', '/secret.txt%00.html', '/%00', '/sub/file.txt%00',
  '/..;/secret.txt', '/../outside/secret.txt', '/%2e%2e/outside/secret.txt', '/.../secret.txt',
]

describe('static file safety', () => {
  it('refuses .. in every spelling with 400 or 404 and never leaks a byte', async (t) => {
    const { root } = await layout(t)
    const { port } = await serveFolder(t, root)
    for (const p of TRAVERSALS) {
      const res = await get(port, p)
      assert.ok(res.status === 400 || res.status === 404, `${p}: ${res.status}`)
      assert.ok(!res.body.includes(SECRET), `${p} leaked the secret`)
    }
  })

  it('refuses traversal sent as raw bytes on the wire, absolute-form and backslash paths', async (t) => {
    const { root } = await layout(t)
    const { port } = await serveFolder(t, root)
    for (const target of ['/../secret.txt', '/..\\secret.txt', 'http://localhost/../secret.txt', '/%2e%2e/%2e%2e/secret.txt', '\\..\\secret.txt']) {
      const text = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
      assert.match(text, /^HTTP\/1\.1 (400|404) /, target)
      assert.ok(!text.includes(SECRET), target)
    }
  })

  it('refuses symlinks that resolve outside the root, unless told to follow them', async (t) => {
    const { base, root } = await layout(t)
    await symlink(path.join(base, 'secret.txt'), path.join(root, 'link.txt'))
    await symlink(path.join(base, 'outside'), path.join(root, 'linkdir'))
    await symlink(path.join(root, 'sub', 'file.txt'), path.join(root, 'inner.txt'))
    const { port } = await serveFolder(t, root)
    for (const p of ['/link.txt', '/linkdir/secret.txt', '/linkdir/']) {
      const res = await get(port, p)
      assert.equal(res.status, 404, p)
      assert.ok(!res.body.includes(SECRET))
    }
    assert.equal((await get(port, '/inner.txt')).body.toString(), 'inside')
    const listing = (await get(port, '/')).body.toString()
    assert.ok(listing.includes('inner.txt') && !listing.includes('link.txt') && !listing.includes('linkdir'))
    const follow = await serveFolder(t, root, { followSymlinks: true })
    assert.equal((await get(follow.port, '/link.txt')).body.toString(), SECRET)
  })

  it('hides dotfiles (404, not listed) unless dotfiles is on, but serves /.well-known/', async (t) => {
    const { root } = await layout(t)
    const { port } = await serveFolder(t, root)
    for (const p of ['/.env', '/.git/config', '/.git/', '/.git', '/%2eenv', '/sub/../.env']) {
      const res = await get(port, p)
      // A dot segment is refused (400) before anything looks for a file.
      assert.equal(res.status, p.includes('/../') ? 400 : 404, p)
      assert.ok(!res.body.includes(SECRET), p)
    }
    const listing = (await get(port, '/')).body.toString()
    assert.ok(!listing.includes('.env') && !listing.includes('.git'))
    assert.equal((await get(port, '/.well-known/security.txt')).status, 200)
    const open = await serveFolder(t, root, { dotfiles: true })
    assert.equal((await get(open.port, '/.env')).status, 200)
    assert.ok((await get(open.port, '/')).body.toString().includes('.env'))
  })

  it('answers very long paths and names, and bad encodings, with 4xx', async (t) => {
    const { root } = await layout(t)
    const { port } = await serveFolder(t, root)
    const cases = ['/' + 'a'.repeat(300), '/a/'.repeat(2000), '/' + 'x'.repeat(9000), '/%', '/%zz', '/%ff%fe', '/%c3', `/${'%2e'.repeat(3000)}`]
    for (const p of cases) {
      const res = await get(port, p)
      assert.ok(res.status >= 400 && res.status < 500, `${p.slice(0, 20)}…: ${res.status}`)
    }
    // Still serving afterwards.
    assert.equal((await get(port, '/sub/file.txt')).status, 200)
  })

  it('never shows a stack trace or a filesystem path on an error page', async (t) => {
    const { base, root } = await layout(t)
    const { port } = await serveFolder(t, root)
    for (const accept of ['text/html', 'application/json', '*/*']) {
      for (const [p, method] of [['/nope.txt', 'GET'], ['/%ff', 'GET'], ['/sub/file.txt/', 'GET'], ['/x', 'POST'], ['/%00', 'GET'], ['/.env', 'GET']] as const) {
        const res = await get(port, p, { accept }, method)
        const text = res.body.toString()
        assert.ok(!text.includes(base) && !text.includes(root), `${p} shows a path`)
        assert.ok(!/\bat .+:\d+:\d+/.test(text) && !text.includes('Error:'), `${p} shows a stack`)
      }
    }
  })

  it('makes every redirect relative with exactly one leading slash (no open redirect)', async (t) => {
    const { root } = await layout(t)
    const { port } = await serveFolder(t, root)
    const cases: Array<[string, string | null]> = [
      ['//evil.example', '/evil.example/'],
      ['///evil.example', '/evil.example/'],
      ['//evil.example?q=1', '/evil.example/?q=1'],
      // An encoded "/" stays inside its segment, which names no file.
      ['/%2F%2Fevil.example', null],
      ['/%2fevil.example', null],
      ['/\\evil.example', null],
      ['/%5cevil.example', null],
      ['//evil.example/..', null],
    ]
    for (const [p, want] of cases) {
      const res = await get(port, p)
      if (want === null) {
        assert.ok(res.status === 404 || res.status === 400, `${p}: ${res.status}`)
        continue
      }
      assert.equal(res.status, 301, p)
      const loc = String(res.headers.location)
      assert.equal(loc, want, p)
      assert.ok(loc.startsWith('/') && !loc.startsWith('//') && !loc.includes('\\'), p)
    }
  })

  it('cannot be made to inject a header by a folder name with CR, LF or quotes', async (t) => {
    const { root } = await layout(t)
    const evil = 'a\r\nSet-Cookie: owned=1\r\n"q"<b>'
    await mkdir(path.join(root, evil))
    await writeFile(path.join(root, evil, 'f.txt'), 'ok')
    const { port } = await serveFolder(t, root)
    const res = await get(port, `/${encodeURIComponent(evil)}`)
    assert.equal(res.status, 301)
    assert.equal(res.headers['set-cookie'], undefined)
    assert.equal(res.headers.location, `/${encodeURIComponent(evil).replace(/'/g, '%27')}/`)
    const inside = await get(port, `/${encodeURIComponent(evil)}/f.txt`)
    assert.equal(inside.body.toString(), 'ok')
    const listing = (await get(port, '/')).body.toString()
    assert.ok(listing.includes('a\r\nSet-Cookie: owned=1\r\n&quot;q&quot;&lt;b&gt;/'))
    assert.ok(!listing.includes('<b>'))
  })

  it('answers other methods without touching the filesystem, and never echoes a TRACE', async (t) => {
    const { root } = await layout(t)
    const { app, engine } = createFolderApp(root)
    const s = await serve(t, app)
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND']) {
      const res = await get(s.port, '/does-not-exist.txt', { 'x-secret-header': 'xyzzy-echo' }, method)
      assert.equal(res.status, 405, method)
      assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS')
      assert.ok(!res.body.toString().includes('xyzzy-echo'), method)
    }
    assert.equal(engine.cacheStats.entries, 0)
    const raw = await rawRequest(s.port, 'TRACE / HTTP/1.1\r\nHost: x\r\nCookie: session=xyzzy-cookie\r\nConnection: close\r\n\r\n')
    assert.match(raw, /^HTTP\/1\.1 405 /)
    assert.ok(!raw.includes('xyzzy-cookie') && !raw.includes('message/http'))
  })
})

describe('static files the server may not read', () => {
  it('answers an unreadable file or folder with 404, never a 500, as Python does', async (t) => {
    const dir = await tempTree(t, { 'secret.txt': SECRET, 'big.bin': Buffer.alloc(2 * 1024 * 1024), 'locked/x.txt': 'x', 'open.txt': 'ok' })
    await chmod(dir, 0o755)
    await chmod(path.join(dir, 'open.txt'), 0o644)
    for (const name of ['secret.txt', 'big.bin', 'locked']) await chmod(path.join(dir, name), 0)
    // Root reads everything, so as root the server runs as nobody.
    const asRoot = process.getuid?.() === 0
    const child = spawn(process.execPath, [CLI, 'serve', dir, '-p', '0', '-b', '127.0.0.1', '-q'], {
      stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    })
    t.after(() => child.kill('SIGKILL'))
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /port (\d+)/.exec(out)
        if (m !== null) resolve(Number(m[1]))
      })
      child.on('exit', (code) => reject(new Error(`carafe serve exited with ${code}`)))
    })
    for (const p of ['/secret.txt', '/big.bin', '/locked/', '/locked/x.txt']) {
      const res = await get(port, p)
      assert.equal(res.status, 404, p)
      assert.ok(!res.body.includes(SECRET))
    }
    assert.equal((await get(port, '/open.txt')).status, 200)
  })
})
