import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { createFolderApp } from '../../src/static/index.js'
import { serve } from '../helpers/server.js'
import { get, tempTree } from './helpers.js'

const JS = 'export const answer = 42;\n'.repeat(200)

describe('static compression', () => {
  it('serves precompressed siblings by Accept-Encoding, with Vary and their own ETags', async (t) => {
    const dir = await tempTree(t, { 'app.js': JS, 'app.js.br': brotliCompressSync(JS), 'app.js.gz': gzipSync(JS) })
    const { app } = createFolderApp(dir)
    const { port } = await serve(t, app)
    const br = await get(port, '/app.js', { 'accept-encoding': 'gzip, deflate, br' })
    assert.equal(br.headers['content-encoding'], 'br')
    assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8')
    assert.equal(br.headers.vary, 'Accept-Encoding')
    assert.equal(brotliDecompressSync(br.body).toString(), JS)
    const gz = await get(port, '/app.js', { 'accept-encoding': 'gzip' })
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.equal(gunzipSync(gz.body).toString(), JS)
    const plain = await get(port, '/app.js')
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.equal(plain.headers.vary, 'Accept-Encoding')
    assert.equal(plain.body.toString(), JS)
    const tags = new Set([br.headers.etag, gz.headers.etag, plain.headers.etag])
    assert.equal(tags.size, 3)
    const again = await get(port, '/app.js', { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) })
    assert.equal(again.status, 304)
    assert.equal(again.headers.vary, 'Accept-Encoding')
  })

  it('sends the identity coding for a Range, so offsets are the file on disk', async (t) => {
    const dir = await tempTree(t, { 'app.js': JS, 'app.js.br': brotliCompressSync(JS) })
    const { app } = createFolderApp(dir)
    const { port } = await serve(t, app)
    const res = await get(port, '/app.js', { 'accept-encoding': 'br', range: 'bytes=0-5' })
    assert.equal(res.status, 206)
    assert.equal(res.headers['content-encoding'], undefined)
    assert.equal(res.body.toString(), 'export')
  })

  it('falls back to the file itself when a precompressed sibling goes away, and sees one that changed', async (t) => {
    const dir = await tempTree(t, { 'app.js': JS, 'app.js.gz': gzipSync(JS), 'app.js.br': brotliCompressSync(JS) })
    // Past the few ms in which a just-written file is served but not cached.
    await new Promise((r) => setTimeout(r, 100))
    const { app, engine } = createFolderApp(dir)
    const { port } = await serve(t, app)
    assert.equal((await get(port, '/app.js', { 'accept-encoding': 'gzip' })).headers['content-encoding'], 'gzip')
    assert.equal(engine.cacheStats.entries, 1, 'the file and its siblings are cached')
    const edited = 'export const answer = 43;\n'.repeat(200)
    await writeFile(path.join(dir, 'app.js.br'), brotliCompressSync(edited))
    assert.equal(brotliDecompressSync((await get(port, '/app.js', { 'accept-encoding': 'br' })).body).toString(), edited)
    await rm(path.join(dir, 'app.js.gz'))
    const res = await get(port, '/app.js', { 'accept-encoding': 'gzip' })
    assert.equal(res.headers['content-encoding'], undefined)
    assert.equal(res.body.toString(), JS)
  })

  it('compresses text on the fly, once per file version, above the threshold only', async (t) => {
    const dir = await tempTree(t, { 'page.html': `<p>${'hello '.repeat(2000)}</p>`, 'tiny.txt': 'tiny', 'pic.png': Buffer.alloc(5000, 1) })
    const { app, engine } = createFolderApp(dir, { compress: true })
    const { port } = await serve(t, app)
    const html = (await get(port, '/page.html')).body.toString()
    // Let the file age past the racy window so it stays cached.
    while (engine.cacheStats.entries === 0) {
      await new Promise((r) => setTimeout(r, 10))
      await get(port, '/page.html')
    }
    const a = await get(port, '/page.html', { 'accept-encoding': 'br, gzip' })
    assert.equal(a.headers['content-encoding'], 'br')
    assert.equal(brotliDecompressSync(a.body).toString(), html)
    assert.ok(a.body.length < html.length / 10)
    const bytes = engine.cacheStats.bytes
    const b = await get(port, '/page.html', { 'accept-encoding': 'br, gzip' })
    assert.deepEqual(b.body, a.body)
    assert.equal(engine.cacheStats.bytes, bytes, 'compressed a second time')
    const g = await get(port, '/page.html', { 'accept-encoding': 'gzip' })
    assert.equal(gunzipSync(g.body).toString(), html)
    assert.equal((await get(port, '/tiny.txt', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined)
    assert.equal((await get(port, '/pic.png', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined)
    await writeFile(path.join(dir, 'page.html'), `<p>${'bye '.repeat(2000)}</p>`)
    const c = await get(port, '/page.html', { 'accept-encoding': 'gzip' })
    assert.equal(gunzipSync(c.body).toString(), `<p>${'bye '.repeat(2000)}</p>`)
  })

  it('offers only the codings that are turned on', async (t) => {
    const dir = await tempTree(t, { 'a.css': 'body{color:red}\n'.repeat(500) })
    const { app } = createFolderApp(dir, { compress: { brotli: false } })
    const { port } = await serve(t, app)
    assert.equal((await get(port, '/a.css', { 'accept-encoding': 'br, gzip' })).headers['content-encoding'], 'gzip')
    assert.equal((await get(port, '/a.css', { 'accept-encoding': 'br' })).headers['content-encoding'], undefined)
  })
})
