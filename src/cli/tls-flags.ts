import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { TlsOptions } from '../server/tls.js'
import { UsageError } from './args.js'

/** The TLS flags of `carafe run`, `carafe serve` and `carafe start`, for `parseFlags`. */
export const TLS_FLAGS = {
  cert: { type: 'string' },
  key: { type: 'string' },
  'self-signed': { type: 'boolean' },
} as const

/** `carafe serve`'s extra names for them, as Python 3.14's `http.server` spells them. */
export const PYTHON_TLS_FLAGS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-password-file': { type: 'string' },
} as const

/** The help lines for {@link TLS_FLAGS}. */
export const TLS_HELP = `      --cert FILE         serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate
      --key FILE          the certificate's PEM private key (default: the --cert file)
      --self-signed       serve HTTPS with a development certificate for localhost,
                          made once into .carafe/ (needs npm install selfsigned@5)
`

/**
 * The `tls` option of `listen()` that the flags ask for, or `undefined` for plain HTTP. Paths
 * are resolved against the working directory; a key without a certificate, or
 * `--self-signed` with `--cert`, is a {@link UsageError}.
 *
 * @example
 * const { values } = parseFlags(argv, { ...TLS_FLAGS, port: { type: 'string' } }, HELP)
 * const tls = tlsOptionsFromFlags(values, HELP) // { certFile, keyFile } | { selfSigned: true } | undefined
 */
export function tlsOptionsFromFlags(values: Record<string, unknown>, usage?: string): TlsOptions | undefined {
  const str = (k: string): string | undefined => typeof values[k] === 'string' ? values[k] as string : undefined
  const cert = str('cert') ?? str('tls-cert')
  const key = str('key') ?? str('tls-key')
  const passwordFile = str('tls-password-file')
  if (values['self-signed'] === true) {
    if (cert !== undefined || key !== undefined) throw new UsageError('--self-signed makes its own certificate: give it or --cert/--key, not both', usage)
    return { selfSigned: true }
  }
  if (cert === undefined) {
    if (key !== undefined) throw new UsageError('--key needs --cert (the certificate that goes with the key)', usage)
    if (passwordFile !== undefined) throw new UsageError('--tls-password-file needs --tls-cert', usage)
    return undefined
  }
  const tls: TlsOptions = { certFile: path.resolve(cert), keyFile: path.resolve(key ?? cert) }
  if (passwordFile !== undefined) tls.passphrase = readPassword(passwordFile)
  return tls
}

function readPassword(file: string): string {
  try {
    // The first line, as Python's http.server reads it: a trailing newline is not part of it.
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new UsageError(`cannot read the password file ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
}

/**
 * Hand the TLS settings to the app process through the environment (`run()` reads them), as
 * `carafe run` does for the port: the reloader's children inherit them.
 */
export function tlsToEnv(tls: TlsOptions | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (tls === undefined) return
  if ('selfSigned' in tls) env.CARAFE_TLS_SELF_SIGNED = '1'
  else if ('certFile' in tls) {
    env.CARAFE_TLS_CERT = tls.certFile
    env.CARAFE_TLS_KEY = tls.keyFile
  }
}
