import assert from 'node:assert/strict'
import { linkSync } from 'node:fs'
import { mkdir, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { formatSize, renderListing } from '../../src/static/listing.js'
import { createFolderApp } from '../../src/static/index.js'
import { serve } from '../helpers/server.js'
import { get, serveFolder, tempTree } from './helpers.js'

describe('directory listing', () => {
  it('lists a folder: title, parent link, folders first, sorted without regard to case', async (t) => {
    const dir = await tempTree(t, { 'sub/b.txt': 'b', 'sub/A.txt': 'aa', 'sub/c.txt': 'ccc', 'sub/Zed/': '', 'sub/alpha/': '' })
    const { port } = await serveFolder(t, dir)
    const res = await get(port, '/sub/')
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(res.headers['content-length'], String(res.body.length))
    const html = res.body.toString()
    assert.match(html, /<title>Directory listing for \/sub\/<\/title>/)
    assert.ok(html.includes('<a href="../">../</a>'))
    const order = [...html.matchAll(/<td><a href="([^"]+)">/g)].map((m) => m[1])
    assert.deepEqual(order, ['../', 'alpha/', 'Zed/', 'A.txt', 'b.txt', 'c.txt'])
    assert.ok(html.includes('title="3 bytes">3 B</td>'))
    assert.match(html, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/)
    assert.ok(!html.includes('<script'))
  })

  it('has no parent link at the top', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'a' })
    const { port } = await serveFolder(t, dir)
    const html = (await get(port, '/')).body.toString()
    assert.ok(html.includes('Directory listing for /'))
    assert.ok(!html.includes('href="../"'))
  })

  it('escapes names in the page and percent-encodes them in links', async (t) => {
    const names = ['나의 비밀 방.txt', '<img src=x onerror=alert(1)>.txt', 'a&b "c" \'d\'.txt', '#hash?.txt', 'a:b.txt', '100%.txt']
    const dir = await tempTree(t, Object.fromEntries(names.map((n) => [n, n])))
    const { port } = await serveFolder(t, dir)
    const html = (await get(port, '/')).body.toString()
    assert.ok(!html.includes('<img'))
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;.txt'))
    assert.ok(html.includes('a&amp;b &quot;c&quot; &#39;d&#39;.txt'))
    assert.ok(html.includes(`href="${encodeURIComponent('나의 비밀 방.txt')}">나의 비밀 방.txt</a>`))
    for (const name of names) {
      const href = [...html.matchAll(/<td><a href="([^"]+)">/g)].map((m) => m[1]!.replace(/&#39;/g, "'")).find((h) => decodeURIComponent(h) === name)
      assert.ok(href !== undefined, `no link for ${name}`)
      const res = await get(port, `/${href}`)
      assert.equal(res.status, 200, name)
      assert.equal(res.body.toString(), name)
    }
  })

  it('shows the decoded path in the title, escaped', async (t) => {
    const dir = await tempTree(t, { '나의 폴더 <b>/x.txt': 'x' })
    const { port } = await serveFolder(t, dir)
    const html = (await get(port, `/${encodeURIComponent('나의 폴더 <b>')}/`)).body.toString()
    assert.ok(html.includes('<title>Directory listing for /나의 폴더 &lt;b&gt;/</title>'))
  })

  it('answers 304 to a revalidation of an unchanged listing, and 404 when listings are off', async (t) => {
    const dir = await tempTree(t, { 'd/a.txt': 'a' })
    const { port } = await serveFolder(t, dir)
    const first = await get(port, '/d/')
    assert.equal((await get(port, '/d/', { 'if-none-match': String(first.headers.etag) })).status, 304)
    const off = await serveFolder(t, dir, { listing: false })
    assert.equal((await get(off.port, '/d/')).status, 404)
  })

  it('is never stale: a file edited in place shows its new size and time at once, and the old ETag no longer matches', async (t) => {
    const dir = await tempTree(t, { 'd/a.txt': 'a', 'd/b.txt': 'b' })
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    const file = path.join(dir, 'd/a.txt')
    // Until the folder is cached: one changed in the last few ms is not (its stamp could hide a later change).
    let first = await get(port, '/d/')
    while (engine.cacheStats.entries === 0) {
      await new Promise((r) => setTimeout(r, 20))
      first = await get(port, '/d/')
    }
    assert.ok(first.body.toString().includes('title="1 bytes">1 B</td>'))
    // In place: same inode, same folder entries, so the folder's own stamp does not move.
    await writeFile(file, 'abcdef')
    const second = await get(port, '/d/')
    assert.ok(second.body.toString().includes('title="6 bytes">6 B</td>'), 'the listing still shows the old size')
    assert.notEqual(second.headers.etag, first.headers.etag)
    assert.equal((await get(port, '/d/', { 'if-none-match': String(first.headers.etag) })).status, 200)
    // Same size, new time: shown to the second.
    const when = new Date(2024, 2, 1, 14, 5, 9)
    await utimes(file, when, when)
    const third = await get(port, '/d/')
    assert.ok(third.body.toString().includes('2024-03-01 14:05:09'), 'the new time is not shown to the second')
    assert.notEqual(third.headers.etag, second.headers.etag)
  })

  it('lists 10,000 entries quickly, and faster still from its cache', async (t) => {
    const dir = await tempTree(t)
    const big = path.join(dir, 'big')
    await mkdir(big)
    const made = performance.now()
    // Hard links to one file: creating 10,000 inodes takes seconds on some file systems.
    await writeFile(path.join(dir, 'one.txt'), 'x')
    for (let i = 0; i < 10_000; i++) linkSync(path.join(dir, 'one.txt'), path.join(big, `file-${String(i).padStart(5, '0')}.txt`))
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    t.diagnostic(`10,000 files created in ${(performance.now() - made).toFixed(0)} ms`)
    let start = performance.now()
    const res = await get(port, '/big/')
    const first = performance.now() - start
    assert.equal(res.status, 200)
    assert.equal((res.body.toString().match(/<tr><td>/g) ?? []).length, 10_000)
    // A folder changed in the last few ms is not cached yet (its timestamp could hide a later change).
    while (engine.cacheStats.entries === 0) {
      await new Promise((r) => setTimeout(r, 20))
      await get(port, '/big/')
    }
    start = performance.now()
    await get(port, '/big/')
    const second = performance.now() - start
    t.diagnostic(`first listing ${first.toFixed(0)} ms, cached ${second.toFixed(0)} ms`)
    assert.ok(first < 3000, `first listing took ${first.toFixed(0)} ms`)
    // From the cache the listing is still revalidated: one statSync per entry (10,000 of them).
    assert.ok(second < 500 && second < first, `cached listing took ${second.toFixed(0)} ms`)
  })

  it('renders small pages and readable sizes', () => {
    assert.equal(formatSize(0), '0 B')
    assert.equal(formatSize(1536), '1.5 KiB')
    assert.equal(formatSize(50 * 1024 * 1024), '50 MiB')
    const html = renderListing('/', [{ name: 'a.txt', dir: false, size: 1, mtimeMs: 0 }], true)
    assert.ok(Buffer.byteLength(html) < 2000)
  })
})
