import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { connect } from 'node:net'
import { AccessLog, type AccessLogFormat } from '../../src/server/access-log.js'
import { spawnCli, waitForServer } from '../helpers/spawn.js'
import { tempTree } from '../static/helpers.js'

async function logLine(format: AccessLogFormat): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-log-'))
  const file = path.join(dir, 'log')
  const fd = openSync(file, 'w')
  const log = new AccessLog(format, fd)
  log.line('::1', 'GET', '/a "b"', '1.1', 200, 123, 'http://ref/', 'curl/8')
  log.flush()
  closeSync(fd)
  try {
    return await readFile(file, 'utf8')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('AccessLog', () => {
  it("writes Python http.server's format by default", async () => {
    assert.match(await logLine('default'), /^::1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/a \\"b\\" HTTP\/1\.1" 200 -\n$/)
  })

  it('writes Apache common and combined formats', async () => {
    assert.match(await logLine('common'), /^::1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/a \\"b\\" HTTP\/1\.1" 200 123\n$/)
    assert.match(await logLine('combined'), /" 200 123 "http:\/\/ref\/" "curl\/8"\n$/)
  })

  it('writes one JSON object a line', async () => {
    const obj = JSON.parse(await logLine('json')) as Record<string, unknown>
    assert.equal(obj.method, 'GET')
    assert.equal(obj.status, 200)
    assert.equal(obj.bytes, 123)
    assert.equal(obj.url, '/a "b"')
  })

  it('keeps a line one line when the URL holds control characters', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-log-'))
    const fd = openSync(path.join(dir, 'log'), 'w')
    const log = new AccessLog('default', fd)
    log.line('::1', 'GET', '/a\r\nfake line', '1.1', 200, 0)
    log.flush()
    closeSync(fd)
    const text = await readFile(path.join(dir, 'log'), 'utf8')
    await rm(dir, { recursive: true, force: true })
    assert.equal(text.split('\n').length, 2)
  })
})

describe('access log over the wire', () => {
  it('logs a download the client cut off with the client address', async (t) => {
    const dir = await tempTree(t, { 'big.bin': Buffer.alloc(8 * 1024 * 1024, 1) })
    const server = spawnCli(t, ['serve', dir, '-p', '0', '-b', '127.0.0.1'])
    const url = new URL(await waitForServer(server))
    await new Promise<void>((resolve, reject) => {
      const s = connect(Number(url.port), '127.0.0.1', () => s.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n'))
      // Like Ctrl+C in curl: the first bytes arrive, then the client is gone.
      s.once('data', () => { s.destroy(); resolve() })
      s.on('error', reject)
    })
    const [line] = await server.waitFor(/^.*"GET \/big\.bin HTTP\/1\.1" 200.*$/m)
    assert.match(line, /^127\.0\.0\.1 - - \[/)
  })
})
