import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { Carafe } from '../../src/index.js'
import { serve } from '../helpers/server.js'

const BOUNDARY = 'carafe-cut'
const FILE_HEAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`

function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

function uploadDirs(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('carafe-upload-'))
}

/** Poll until `check()` holds or `ms` pass (the server closes its side a few ticks after the client). */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

/** Send `data` on a fresh connection; resolve with the status line once the server closes it. */
function send(port: number, data: Buffer, abortAfter?: number): Promise<string> {
  return new Promise((resolve) => {
    let out = ''
    const socket = net.connect(port, '127.0.0.1', () => {
      if (abortAfter === undefined) return void socket.write(data)
      // Reset at once, the way a killed client or a dropped network leaves a server.
      socket.write(data.subarray(0, abortAfter))
      socket.resetAndDestroy()
    })
    socket.on('data', (d: Buffer) => { out += d.toString('latin1') })
    socket.on('error', () => {})
    socket.on('close', () => resolve(out.split('\r\n')[0]!))
  })
}

function request(body: Buffer, declared = body.length): Buffer {
  const head = `POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${declared}\r\n\r\n`
  return Buffer.concat([Buffer.from(head), body])
}

describe('multipart uploads that fail or are aborted', () => {
  // A temp folder of this file's own: uploads of tests running beside it (in other processes) must not count.
  const privateTmp = mkdtempSync(path.join(tmpdir(), 'carafe-uploadtest-'))
  const savedTmp = process.env.TMPDIR
  before(() => { process.env.TMPDIR = privateTmp })
  after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = savedTmp
    rmSync(privateTmp, { recursive: true, force: true })
  })

  it('leave no file descriptor and no temp folder when the body stops inside a file part', async (t) => {
    const app = new Carafe()
    app.post('/up', async (c) => (await c.req.form()).files.length)
    const { port } = await serve(t, app)
    const dirs = uploadDirs()
    // One warm-up request, so lazily loaded modules and the like do not count as leaks.
    await send(port, request(Buffer.concat([Buffer.from(FILE_HEAD), Buffer.alloc(100 * 1024, 97)])))
    const before = openFds()
    const cut = request(Buffer.concat([Buffer.from(FILE_HEAD), Buffer.alloc(100 * 1024, 97)]))
    for (let i = 0; i < 20; i++) assert.match(await send(port, cut), /^HTTP\/1\.1 400 /)
    await eventually(() => openFds() <= before && uploadDirs().length === dirs.length)
    assert.ok(openFds() <= before, `every spooled file is closed (${before} fds before, ${openFds()} after)`)
    assert.deepEqual(uploadDirs(), dirs, 'every temp folder is removed')
  })

  it('leave no file descriptor and no temp folder when the client goes away mid-upload', async (t) => {
    const app = new Carafe()
    app.post('/up', async (c) => (await c.req.form()).files.length)
    const { port } = await serve(t, app)
    const dirs = uploadDirs()
    const upload = request(Buffer.concat([Buffer.from(FILE_HEAD), Buffer.alloc(1024 * 1024, 97)]), 2 * 1024 * 1024)
    await send(port, upload, 200 * 1024)
    await eventually(() => uploadDirs().length === dirs.length)
    const before = openFds()
    // Cut anywhere from just before the 64 KiB memory threshold (where the spool opens its file) on.
    const head = upload.length - 1024 * 1024
    for (let i = 0; i < 40; i++) await send(port, upload, head + 60 * 1024 + Math.floor(Math.random() * (i < 30 ? 200 : 900) * 1024))
    await eventually(() => openFds() <= before && uploadDirs().length === dirs.length)
    assert.ok(openFds() <= before, `every spooled file is closed (${before} fds before, ${openFds()} after)`)
    assert.deepEqual(uploadDirs(), dirs, 'every temp folder is removed')
  })
})
