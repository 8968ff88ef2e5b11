import http2 from 'node:http2'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { selfSignedCert } from '../../src/server/self-signed.js'
import type { TlsMaterial } from '../../src/server/tls.js'

let made: Promise<{ dir: string; pems: TlsMaterial }> | null = null

/** One self-signed localhost certificate per test process, in a temporary folder's `.carafe/tls/`. */
export function testCert(): Promise<{ dir: string; pems: TlsMaterial; certFile: string; keyFile: string }> {
  made ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-tls-'))
    return { dir, pems: await selfSignedCert(dir) }
  })()
  return made.then(({ dir, pems }) => ({
    dir,
    pems,
    certFile: path.join(dir, '.carafe/tls/localhost-cert.pem'),
    keyFile: path.join(dir, '.carafe/tls/localhost-key.pem'),
  }))
}

/** What an HTTP/2 request got back. */
export interface H2Response {
  status: number
  headers: http2.IncomingHttpHeaders
  body: Buffer
}

/** An HTTP/2 client session to `port` (certificate not checked), closed when the test ends. */
export function h2connect(t: TestContext, port: number): http2.ClientHttp2Session {
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false })
  session.on('error', () => {})
  t.after(() => { if (!session.destroyed) session.destroy() })
  return session
}

/** One request on `session`; resolves when the response has ended (or the stream was reset after it). */
export function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers)
    const chunks: Buffer[] = []
    let head: http2.IncomingHttpHeaders | undefined
    stream.on('response', (h) => { head = h })
    stream.on('data', (d: Buffer) => chunks.push(d))
    const done = (): void => {
      if (head === undefined) reject(new Error(`stream closed without a response (rst ${stream.rstCode})`))
      else resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) })
    }
    stream.once('end', done)
    stream.once('close', done)
    stream.on('error', (e) => { if (head === undefined) reject(e) })
    if (body !== undefined) stream.end(body)
    else stream.end()
  })
}
