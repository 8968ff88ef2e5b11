import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { Carafe } from '../../src/index.js'
import { serve } from '../helpers/server.js'

interface Answer { head: string; body: string; error: string | null }

/** Write the whole request at once without reading (as Python's http.client does), then read what comes back. */
function sendAll(port: number, head: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let error: string | null = null
    const socket = net.connect(port, '127.0.0.1', () => { socket.write(head); socket.write(body) })
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message })
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      resolve({ head: split < 0 ? text : text.slice(0, split), body: split < 0 ? '' : text.slice(split + 4), error })
    })
  })
}

function jsonBody(bytes: number): Buffer {
  const b = Buffer.alloc(bytes, 32)
  b[0] = 0x5b // [
  b[bytes - 1] = 0x5d // ]
  return b
}

const BOUNDARY = 'carafe-limit'
function multipartBody(files: Array<{ name: string; size: number }>): Buffer {
  const parts = files.map((f, i) => Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f${i}"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.alloc(f.size, 97),
    Buffer.from('\r\n'),
  ]))
  return Buffer.concat([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)])
}

describe('request bodies over a limit', () => {
  it('answers 413 to a client that sends a whole 8 or 32 MiB JSON body without waiting', async (t) => {
    const app = new Carafe()
    app.post('/j', async (c) => c.json(await c.req.json()))
    const { port } = await serve(t, app)
    for (const mib of [8, 32]) {
      const body = jsonBody(mib * 1024 * 1024)
      for (const framing of ['length', 'chunked']) {
        const head = framing === 'length'
          ? `POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
          : `POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`
        const r = await sendAll(port, head, framing === 'length' ? body : Buffer.concat([body, Buffer.from('\r\n0\r\n\r\n')]))
        assert.match(r.head, /^HTTP\/1\.1 413 /, `${mib} MiB, ${framing}: ${r.error ?? r.head}`)
        assert.match(r.head, /\r\nconnection: close/i)
        assert.match(r.body, /larger than the limit of 1048576 bytes/)
        assert.equal(r.error, null, `${mib} MiB, ${framing}: no reset`)
      }
    }
  })

  it('answers 413 to a whole multipart body over the file-size or file-count limit', async (t) => {
    const app = new Carafe({ uploads: { fileSize: 1024 * 1024, files: 2 } })
    app.post('/up', async (c) => (await c.req.form()).files.length)
    const { port } = await serve(t, app)
    const head = (n: number): string => `POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${n}\r\n\r\n`
    let body = multipartBody([{ name: 'big.bin', size: 8 * 1024 * 1024 }])
    let r = await sendAll(port, head(body.length), body)
    assert.match(r.head, /^HTTP\/1\.1 413 /, r.error ?? r.head)
    assert.match(r.body, /"big.bin" is larger than the limit of 1048576 bytes/)
    assert.equal(r.error, null)
    body = multipartBody(Array.from({ length: 10 }, (_, i) => ({ name: `${i}.bin`, size: 900 * 1024 })))
    r = await sendAll(port, head(body.length), body)
    assert.match(r.head, /^HTTP\/1\.1 413 /, r.error ?? r.head)
    assert.match(r.body, /too many files: at most 2/)
    assert.equal(r.error, null)
  })

  it('stops reading a refused body after a bounded amount', async (t) => {
    const app = new Carafe({ bodyLimit: 1000 })
    app.post('/j', async (c) => c.json(await c.req.json()))
    const { port } = await serve(t, app)
    const sent = await new Promise<number>((resolve) => {
      let total = 0
      const chunk = Buffer.alloc(1024 * 1024, 32)
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /j HTTP/1.1\r\nHost: x\r\nContent-Length: ${8 * 1024 * 1024 * 1024}\r\n\r\n`)
        const pump = (): void => {
          while (!socket.destroyed && total < 1024 * 1024 * 1024) {
            total += chunk.length
            if (!socket.write(chunk)) return void socket.once('drain', pump)
          }
        }
        pump()
      })
      socket.on('data', () => {})
      socket.on('error', () => {})
      socket.on('close', () => resolve(total))
    })
    assert.ok(sent < 512 * 1024 * 1024, `the server closed after ${sent} bytes`)
  })

  it('answers Expect: 100-continue with 413 at once when the declared length is over the limit, else continues', async (t) => {
    const app = new Carafe({ bodyLimit: 1000 })
    app.post('/j', async (c) => c.json(await c.req.json()))
    app.post('/big', async (c) => (await c.req.text()).length, { bodyLimit: 100_000 })
    const { port } = await serve(t, app)
    const exchange = (path: string, length: number): Promise<string> => new Promise((resolve) => {
      let out = ''
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`)
      })
      socket.on('data', (d: Buffer) => {
        out += d.toString('latin1')
        // The body goes only once the server asks for it.
        if (out.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && out.length === 25) socket.write(jsonBody(length))
      })
      socket.on('error', () => {})
      socket.on('close', () => resolve(out))
    })
    let out = await exchange('/j', 5 * 1024 * 1024)
    assert.match(out, /^HTTP\/1\.1 413 /)
    assert.match(out, /larger than the limit of 1000 bytes/)
    // A route with its own, larger limit still gets its body.
    out = await exchange('/big', 50_000)
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /)
    assert.match(out, /\r\n\r\n50000$/)
  })

  it('answers 413 to Python http.client posting an 8 MiB JSON body', async (t) => {
    // The seed port tests run Debian's /usr/bin/python3 too; without it this fails, never skips.
    assert.ok(existsSync('/usr/bin/python3'), 'this test needs /usr/bin/python3 (apt-get install python3)')
    const app = new Carafe()
    app.post('/j', async (c) => c.json(await c.req.json()))
    const { port } = await serve(t, app)
    const script = `import http.client
c = http.client.HTTPConnection('127.0.0.1', ${port})
c.request('POST', '/j', body=b'[' + b' ' * (8 * 1024 * 1024) + b']', headers={'Content-Type': 'application/json'})
r = c.getresponse()
print(r.status, r.read().decode())`
    const out = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/python3', ['-c', script], (e, stdout, stderr) => e ? reject(new Error(stderr)) : resolve(stdout))
    })
    assert.match(out, /^413 .*larger than the limit/)
  })
})
