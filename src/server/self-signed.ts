import { X509Certificate } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { requirePeer } from '../util/peer.js'
import type { TlsMaterial } from './tls.js'

/** How long a made certificate is valid, in days (browsers and curl accept self-signed ones of any length; short limits the harm of a copied key). */
const DAYS = 90
/** Made again when it has less than this left, in ms, so a long-running dev server does not cross its expiry. */
const MARGIN = 24 * 3600 * 1000

/**
 * A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, for local development:
 * read from `<root>/.carafe/tls/`, or made there (with the optional `selfsigned` package) when
 * missing, unreadable or about to expire. The key file has mode 0600 and the folder holds a
 * `.gitignore` of `*`, as for the development secret, so it is never committed.
 *
 * @example
 * const { cert, key } = await selfSignedCert(process.cwd())
 */
export async function selfSignedCert(root: string): Promise<TlsMaterial> {
  const dir = path.join(root, '.carafe')
  const certFile = path.join(dir, 'tls', 'localhost-cert.pem')
  const keyFile = path.join(dir, 'tls', 'localhost-key.pem')
  const cached = readCached(certFile, keyFile)
  if (cached !== null) return cached
  const selfsigned = requirePeer<typeof import('selfsigned')>('selfsigned', 'selfsigned@5', '--self-signed (a development certificate)')
  const notAfter = new Date(Date.now() + DAYS * 24 * 3600 * 1000)
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  })
  mkdirSync(path.join(dir, 'tls'), { recursive: true, mode: 0o700 })
  writeFileSync(path.join(dir, '.gitignore'), '# Made by carafe: local development state, never commit it.\n*\n')
  writeFileSync(keyFile, pems.private, { mode: 0o600 })
  // The mode given to writeFileSync passes through the umask, and does nothing to a file that existed.
  chmodSync(keyFile, 0o600)
  writeFileSync(certFile, pems.cert)
  return { cert: pems.cert, key: pems.private }
}

function readCached(certFile: string, keyFile: string): TlsMaterial | null {
  try {
    const cert = readFileSync(certFile, 'utf8')
    const key = readFileSync(keyFile, 'utf8')
    if (new Date(new X509Certificate(cert).validTo).getTime() - Date.now() < MARGIN) return null
    return { cert, key }
  } catch {
    return null
  }
}
