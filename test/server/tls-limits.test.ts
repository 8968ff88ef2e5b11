import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtemp, mkdir, stat, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { Carafe } from '../../src/index.js'
import { selfSignedCert } from '../../src/server/self-signed.js'
import { testCert } from '../helpers/tls.js'

/** A TLS connection speaking HTTP/1.1 (ALPN); resolves what it read and how long it stayed open. */
function http1OverTls(port: number, send: (socket: tls.TLSSocket) => void): Promise<{ data: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    let data = ''
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      assert.equal(socket.alpnProtocol, 'http/1.1')
      send(socket)
    })
    socket.on('data', (d: Buffer) => { data += d.toString() })
    socket.on('error', reject)
    socket.on('close', () => resolve({ data, ms: Date.now() - t0 }))
  })
}

describe('HTTP/1.1 connections to an HTTP/2 TLS server', () => {
  it('closes an idle keep-alive connection after keepAliveTimeout', { timeout: 10_000 }, async (t) => {
    const { certFile, keyFile } = await testCert()
    const app = new Carafe()
    app.get('/', () => 'ok')
    const s = await app.listen({ host: '127.0.0.1', port: 0, tls: { certFile, keyFile }, keepAliveTimeout: 300 })
    t.after(() => s.close())
    const { data, ms } = await http1OverTls(s.port, (socket) => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'))
    assert.match(data, /^HTTP\/1\.1 200 OK\r\n/)
    assert.match(data, /keep-alive/i)
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`)
  })

  it('answers 408 to a client that sends its headers too slowly, and 431 to too big ones', { timeout: 10_000 }, async (t) => {
    const { certFile, keyFile } = await testCert()
    const app = new Carafe()
    app.get('/', () => 'ok')
    const s = await app.listen({ host: '127.0.0.1', port: 0, tls: { certFile, keyFile }, headersTimeout: 500, keepAliveTimeout: 5000 })
    t.after(() => s.close())
    let timer: NodeJS.Timeout | undefined
    const slow = await http1OverTls(s.port, (socket) => {
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n')
      // One header every 100 ms: never idle, never done.
      timer = setInterval(() => { if (socket.writable) socket.write('X-Drip: 1\r\n') }, 100)
    })
    clearInterval(timer)
    assert.match(slow.data, /^HTTP\/1\.1 408 /)
    assert.ok(slow.ms < 3000, `cut after ${slow.ms} ms`)
    const big = await http1OverTls(s.port, (socket) => socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))
    assert.match(big.data, /^HTTP\/1\.1 431 /)
  })
})

describe('listen({ tls }) with a bad certificate or key', () => {
  it('names the missing file', async () => {
    const { certFile } = await testCert()
    const app = new Carafe()
    await assert.rejects(app.listen({ port: 0, tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } }), { code: 'ERR_TLS_FILE', message: 'cannot read the TLS certificate file /nonexistent/cert.pem: no such file' })
    await assert.rejects(app.listen({ port: 0, tls: { certFile, keyFile: '/nonexistent/key.pem' } }), { code: 'ERR_TLS_FILE', message: 'cannot read the TLS key file /nonexistent/key.pem: no such file' })
  })

  it('says when the key is not the certificate\'s, or a file is not PEM', async () => {
    const { certFile } = await testCert()
    const other = await mkdtemp(path.join(tmpdir(), 'carafe-tls-other-'))
    await selfSignedCert(other)
    const otherKey = path.join(other, '.carafe/tls/localhost-key.pem')
    const app = new Carafe()
    await assert.rejects(app.listen({ port: 0, tls: { certFile, keyFile: otherKey } }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'ERR_TLS_KEY_MISMATCH')
      assert.ok(e.message.includes(otherKey) && e.message.includes(certFile), e.message)
      return true
    })
    const junk = path.join(other, 'junk.pem')
    await writeFile(junk, 'not a certificate\n')
    await assert.rejects(app.listen({ port: 0, tls: { certFile: junk, keyFile: otherKey } }), { code: 'ERR_TLS_PEM', message: /^the certificate file .*junk\.pem is not a PEM certificate/ })
    await assert.rejects(app.listen({ port: 0, tls: { certFile, keyFile: junk } }), { code: 'ERR_TLS_PEM', message: /^the key file .*junk\.pem is not a PEM private key/ })
    const { pems } = await testCert()
    const encrypted = path.join(other, 'enc-key.pem')
    await writeFile(encrypted, createPrivateKey(pems.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' }))
    await assert.rejects(app.listen({ port: 0, tls: { certFile, keyFile: encrypted, passphrase: 'wrong' } }), { code: 'ERR_TLS_KEY', message: `cannot decrypt the key file ${encrypted}: wrong or missing passphrase` })
    // A key file given as the certificate: it holds no certificate.
    await assert.rejects(app.listen({ port: 0, tls: { certFile: otherKey, keyFile: otherKey } }), { code: 'ERR_TLS_PEM', message: /^the certificate file / })
  })
})

describe('selfSignedCert', () => {
  it('makes a localhost certificate once, keeps the key private, and remakes an expired one', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'carafe-selfsigned-'))
    const first = await selfSignedCert(root)
    const x509 = new X509Certificate(first.cert)
    assert.match(x509.subjectAltName ?? '', /DNS:localhost/)
    assert.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/)
    assert.match(x509.subjectAltName ?? '', /IP Address:0:0:0:0:0:0:0:1|IP Address:::1/)
    assert.ok(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(first.key)))
    const keyFile = path.join(root, '.carafe/tls/localhost-key.pem')
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600)
    assert.equal(await readFile(path.join(root, '.carafe/.gitignore'), 'utf8').then((s) => s.includes('*')), true)
    const again = await selfSignedCert(root)
    assert.equal(again.cert, first.cert)
    // An expired certificate in the cache (made here with the package directly) is replaced.
    const selfsigned = await import('selfsigned')
    const old = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', notBeforeDate: new Date(Date.now() - 10 * 86400_000), notAfterDate: new Date(Date.now() - 86400_000) })
    await mkdir(path.join(root, '.carafe/tls'), { recursive: true })
    await writeFile(path.join(root, '.carafe/tls/localhost-cert.pem'), old.cert)
    await writeFile(keyFile, old.private)
    const fresh = await selfSignedCert(root)
    assert.notEqual(fresh.cert, old.cert)
    assert.ok(new Date(new X509Certificate(fresh.cert).validTo).getTime() > Date.now() + 30 * 86400_000)
  })
})
