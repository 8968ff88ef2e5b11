import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import path from 'node:path'
import { describe, it } from 'node:test'
import { createFolderApp, type StaticEngine } from '../../src/static/index.js'
import { serve } from '../helpers/server.js'
import { get, tempTree } from './helpers.js'

/** Request `p` until the engine has cached something (a file changed in the last few ms is served but not cached yet). */
async function untilCached(port: number, p: string, engine: StaticEngine, entries = 1): Promise<void> {
  const deadline = Date.now() + 3000
  while (engine.cacheStats.entries < entries) {
    assert.ok(Date.now() < deadline, 'the file was never cached')
    await get(port, p)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

describe('static file cache', () => {
  it('never serves a cached file stale after an edit of the same size', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'version-0' })
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    await untilCached(port, '/a.txt', engine)
    for (let i = 1; i <= 20; i++) {
      await writeFile(path.join(dir, 'a.txt'), `version-${i % 10}`)
      assert.equal((await get(port, '/a.txt')).body.toString(), `version-${i % 10}`, `edit ${i}`)
    }
  })

  it('never serves stale under load, when 24 clients share each turn\'s revalidation (in batches of 16)', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'version-00' })
    const file = path.join(dir, 'a.txt')
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    const agent = new Agent({ keepAlive: true, maxSockets: 25 })
    t.after(() => agent.destroy())
    let running = true
    const seen = new Set<string>()
    const hammer = async (): Promise<void> => {
      while (running) {
        const res = await get(port, '/a.txt', {}, 'GET', agent)
        assert.equal(res.status, 200)
        seen.add(res.body.toString())
      }
    }
    const load = Array.from({ length: 24 }, hammer)
    for (let i = 1; i <= 12; i++) {
      // Let the file age past the racy window so the cache holds it again under load (the
      // hammering clients cache it; on a busy machine that can take longer than the window)…
      const deadline = Date.now() + 5000
      do await new Promise((r) => setTimeout(r, 60))
      while (engine.cacheStats.entries !== 1 && Date.now() < deadline)
      assert.equal(engine.cacheStats.entries, 1, `cached again before edit ${i}`)
      // …then edit it (same size) and ask at once: the answer must be the new version.
      writeFileSync(file, `version-${String(i).padStart(2, '0')}`)
      assert.equal((await get(port, '/a.txt', {}, 'GET', agent)).body.toString(), `version-${String(i).padStart(2, '0')}`, `edit ${i}`)
    }
    running = false
    await Promise.all(load)
    assert.ok(seen.size >= 10, `the load saw ${seen.size} versions`)
  })

  it('sees a file replaced by rename (atomic save) and a deleted file', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'old', 'b.txt': 'bye' })
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    await untilCached(port, '/a.txt', engine)
    await writeFile(path.join(dir, 'a.tmp'), 'new')
    await rename(path.join(dir, 'a.tmp'), path.join(dir, 'a.txt'))
    assert.equal((await get(port, '/a.txt')).body.toString(), 'new')
    assert.equal((await get(port, '/b.txt')).status, 200)
    await rm(path.join(dir, 'b.txt'))
    assert.equal((await get(port, '/b.txt')).status, 404)
  })

  it('changes ETag after an edit, so a revalidating client gets the new content', async (t) => {
    const dir = await tempTree(t, { 'a.txt': 'one' })
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    await untilCached(port, '/a.txt', engine)
    const etag = String((await get(port, '/a.txt')).headers.etag)
    await writeFile(path.join(dir, 'a.txt'), 'two')
    const res = await get(port, '/a.txt', { 'if-none-match': etag })
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), 'two')
  })

  it('updates a listing when a file is added, and serves an index.html created later', async (t) => {
    const dir = await tempTree(t, { 'd/one.txt': '1' })
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    await untilCached(port, '/d/', engine)
    assert.ok(!(await get(port, '/d/')).body.toString().includes('two.txt'))
    await writeFile(path.join(dir, 'd', 'two.txt'), '2')
    assert.ok((await get(port, '/d/')).body.toString().includes('two.txt'))
    await writeFile(path.join(dir, 'd', 'index.html'), '<p>index</p>')
    assert.equal((await get(port, '/d/')).body.toString(), '<p>index</p>')
  })

  it('keeps its memory within cacheSize, and never holds a large file in memory', async (t) => {
    const files: Record<string, Buffer> = { 'big.bin': Buffer.alloc(3 * 1024 * 1024, 7) }
    for (let i = 0; i < 10; i++) files[`f${i}.bin`] = Buffer.alloc(4096, i)
    const dir = await tempTree(t, files)
    const { app, engine } = createFolderApp(dir, { cacheSize: 16 * 1024 })
    const { port } = await serve(t, app)
    await untilCached(port, '/f0.bin', engine)
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) assert.deepEqual((await get(port, `/f${i}.bin`)).body, files[`f${i}.bin`])
    }
    assert.ok(engine.cacheStats.bytes <= 16 * 1024, `cache holds ${engine.cacheStats.bytes} bytes`)
    const big = await get(port, '/big.bin')
    assert.equal(big.body.length, 3 * 1024 * 1024)
    assert.ok(engine.cacheStats.bytes <= 16 * 1024)
  })

  it('leaves no open file descriptor when clients disconnect mid-download', async (t) => {
    const dir = await tempTree(t, { 'huge.bin': Buffer.alloc(24 * 1024 * 1024, 1) })
    const { app } = createFolderApp(dir)
    const { port } = await serve(t, app)
    const before = openFds()
    let during = 0
    const aborts = Array.from({ length: 20 }, () => new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/huge.bin', agent: false }, (res) => {
        res.once('data', () => {
          during = Math.max(during, openFds())
          req.destroy()
          resolve()
        })
      })
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)))
      req.end()
    }))
    await Promise.all(aborts)
    assert.ok(during > before, 'the downloads never had a file open')
    const deadline = Date.now() + 5000
    while (openFds() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.equal(openFds(), before, 'file descriptors left open after aborted downloads')
    // And a complete download still works afterwards.
    assert.equal((await get(port, '/huge.bin', { range: 'bytes=-3' })).body.length, 3)
  })
})
