import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Server as HttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { constants, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import { createSecureContext } from 'node:tls'
import { CarafeError } from '../core/errors.js'

/**
 * Where the certificate and key of a TLS listener come from: PEM text or buffers, PEM files,
 * or `{ selfSigned: true }`: a certificate for localhost, 127.0.0.1 and ::1 made on first use
 * and kept in `<dir>/.carafe/tls/` (for local development only; browsers warn about it).
 *
 * @example
 * app.listen({ tls: { certFile: '/etc/ssl/site.pem', keyFile: '/etc/ssl/site.key' } })
 * app.listen({ tls: { selfSigned: true }, port: 8443 })
 */
export type TlsOptions =
  | {
    /** The certificate chain, PEM. */
    cert: string | Buffer
    /** The private key, PEM. */
    key: string | Buffer
    /** The key's passphrase, when it is encrypted. @default none */
    passphrase?: string
  }
  | {
    /** A PEM file with the certificate (and its chain). */
    certFile: string
    /** A PEM file with the private key. */
    keyFile: string
    /** The key's passphrase, when it is encrypted. @default none */
    passphrase?: string
  }
  | {
    /** Make (once, then reuse) a self-signed certificate for localhost. */
    selfSigned: true
    /** The folder whose `.carafe/tls/` keeps it. @default the folder of the app `carafe run` runs, else the working directory */
    dir?: string
  }

/** A certificate and key, read and checked. */
export interface TlsMaterial {
  cert: string | Buffer
  key: string | Buffer
  passphrase?: string
}

/**
 * Read and check the certificate and key before binding, so a wrong path, a file that is
 * not PEM or a key of another certificate is one CarafeError naming the file, not a stack
 * from deep inside `tls`.
 */
export async function loadTls(tls: TlsOptions): Promise<TlsMaterial> {
  let material: TlsMaterial
  let names = { cert: 'the certificate', key: 'the key' }
  if ('selfSigned' in tls) {
    const { selfSignedCert } = await import('./self-signed.js')
    const dir = tls.dir ?? (process.env.CARAFE_APP_FILE !== undefined ? path.dirname(process.env.CARAFE_APP_FILE) : process.cwd())
    material = await selfSignedCert(dir)
  } else if ('certFile' in tls) {
    names = { cert: `the certificate file ${tls.certFile}`, key: `the key file ${tls.keyFile}` }
    material = { cert: readPem(tls.certFile, 'certificate'), key: readPem(tls.keyFile, 'key'), passphrase: tls.passphrase }
  } else {
    material = { cert: tls.cert, key: tls.key, passphrase: tls.passphrase }
  }
  checkPair(material, names)
  return material
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'it is a folder' : err.message
    throw new CarafeError('ERR_TLS_FILE', `cannot read the TLS ${what} file ${file}: ${why}`)
  }
}

/**
 * Build secure contexts: OpenSSL says here whether each PEM parses and the key fits the
 * certificate. The certificate and the key are tried alone first, so the error names the
 * file that is wrong (OpenSSL's own messages, "no start line", name neither).
 */
function checkPair(m: TlsMaterial, names: { cert: string; key: string }): void {
  const attempt = (options: Parameters<typeof createSecureContext>[0]): string | null => {
    try {
      createSecureContext(options)
      return null
    } catch (e) {
      return (e as Error).message
    }
  }
  const certError = attempt({ cert: m.cert })
  if (certError !== null) throw new CarafeError('ERR_TLS_PEM', `${names.cert} is not a PEM certificate (${certError})`)
  const keyError = attempt({ key: m.key, passphrase: m.passphrase })
  if (keyError !== null) {
    if (/bad decrypt|bad password|passphrase/i.test(keyError)) throw new CarafeError('ERR_TLS_KEY', `cannot decrypt ${names.key}: wrong or missing passphrase`)
    throw new CarafeError('ERR_TLS_PEM', `${names.key} is not a PEM private key (${keyError})`)
  }
  const pairError = attempt({ cert: m.cert, key: m.key, passphrase: m.passphrase })
  if (pairError !== null) throw new CarafeError('ERR_TLS_KEY_MISMATCH', `the TLS key does not match the certificate (${names.key} belongs to another certificate than ${names.cert})`)
}

/** The limits and timeouts `listen()` gives every server. */
export interface ServerLimits {
  maxHeaderSize: number
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  connectionsCheckingInterval: number
  /** Streams one HTTP/2 connection may have open at once. */
  maxConcurrentStreams: number
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * A TLS server: HTTP/2 with HTTP/1.1 on the same port (ALPN picks), or HTTPS/1.1 only.
 *
 * It is returned as an `http.Server` because the rest of `listen()` (bind, drain) only uses
 * what both have: `Http2SecureServer` runs its HTTP/1.1 connections through Node's own
 * HTTP server code (same timeouts, same `closeIdleConnections`), and gets here a
 * `closeAllConnections` and a `closeIdleConnections` that also cover its HTTP/2 sessions.
 */
export function createTlsServer(tls: TlsMaterial, limits: ServerLimits, http2: boolean, handler: Handler): Server {
  const { maxConcurrentStreams, ...http1 } = limits
  if (!http2) return answerPlainHttp(createHttpsServer({ ...tls, ...http1 }, handler)) as unknown as Server
  const server = createSecureServer({
    ...tls,
    allowHTTP1: true,
    // RFC 9113 §6.5.2: the header list limit is announced in SETTINGS; the same size as the
    // HTTP/1.1 431 limit, so a request is refused or not whichever protocol it came by.
    settings: { maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderSize },
    // Node's default (10 MB per session): outgoing data queued past it gets streams refused (ENHANCE_YOUR_CALM).
    maxSessionMemory: 10,
  }, handler as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void)
  // Node 20 serves the HTTP/1.1 connections of an Http2SecureServer with its HTTP server code,
  // which reads these from the server object (they are not constructor options here).
  Object.assign(server, http1)
  trackSessions(server, limits.keepAliveTimeout, limits.requestTimeout)
  return answerPlainHttp(server) as unknown as Server
}

const PLAIN_BODY = '400 Bad Request: this port speaks HTTPS; use an https:// URL\n'
const PLAIN_ANSWER = `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${PLAIN_BODY.length}\r\nConnection: close\r\n\r\n${PLAIN_BODY}`

/**
 * A plain-HTTP request sent to the TLS port (an `http://` URL for an `https://` server):
 * OpenSSL sees it is HTTP (ERR_SSL_HTTP_REQUEST) and the connection would just drop, which
 * browsers and curl show as an empty reply. Answer it in plain text first, as nginx does.
 * The raw TCP socket under the TLS one is `_parent` (Node internals, stable since the
 * first TLS server): when it is missing the connection only closes, as before.
 */
function answerPlainHttp<S extends NodeJS.EventEmitter>(server: S): S {
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: { _parent?: { writable: boolean; write(s: string): void } }) => {
    if (err.code !== 'ERR_SSL_HTTP_REQUEST') return
    const raw = socket._parent
    try {
      if (raw?.writable === true) raw.write(PLAIN_ANSWER)
    } catch {
      // The socket went first: nothing to tell.
    }
  })
  return server
}

/** What `trackSessions` keeps on a server. */
const SESSIONS = new WeakMap<Http2SecureServer, Set<ServerHttp2Session>>()

/**
 * Timeouts and shutdown for HTTP/2 sessions. A session with no open stream for
 * `keepAliveTimeout` ms is closed (GOAWAY), as an idle HTTP/1.1 keep-alive connection is;
 * Node's own session timeout counts inactivity instead, which would also cut a session
 * whose only stream waits for a slow handler. A stream whose request has not all arrived
 * after `requestTimeout` ms gets 408, as over HTTP/1.1 (a client trickling an upload).
 */
function trackSessions(server: Http2SecureServer, keepAliveTimeout: number, requestTimeout: number): void {
  const sessions = new Set<ServerHttp2Session>()
  SESSIONS.set(server, sessions)
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    let open = 0
    let idle: NodeJS.Timeout | undefined
    const arm = (): void => {
      if (keepAliveTimeout > 0) idle = setTimeout(() => session.close(), keepAliveTimeout).unref()
    }
    arm()
    session.on('stream', (stream: ServerHttp2Stream) => {
      open++
      clearTimeout(idle)
      const late = requestTimeout > 0 && !stream.endAfterHeaders ? setTimeout(() => timeOut(stream), requestTimeout).unref() : undefined
      stream.once('close', () => {
        clearTimeout(late)
        if (--open === 0 && !session.closed && !session.destroyed) arm()
      })
    })
    // A session error (a protocol violation, a reset) is the client's: it ends that session only.
    session.on('error', () => {})
    session.once('close', () => {
      clearTimeout(idle)
      sessions.delete(session)
    })
  })
  const s = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void }
  const closeIdle = s.closeIdleConnections.bind(server)
  // Draining: GOAWAY to every session (in-flight streams finish, no new ones start), idle HTTP/1.1 connections closed.
  s.closeIdleConnections = () => {
    closeIdle()
    for (const session of sessions) session.close()
  }
  s.closeAllConnections = () => {
    HttpServer.prototype.closeAllConnections.call(server)
    for (const session of sessions) session.destroy()
  }
}

const TIMEOUT_BODY = '408 Request Timeout: the request took too long to arrive\n'

/** `requestTimeout` for one stream: 408 while the client is still sending, else the stream is cancelled. */
function timeOut(stream: ServerHttp2Stream): void {
  // `remoteClose` is 1 once the client's END_STREAM arrived: the request is all in, whatever the handler is doing.
  if (stream.closed || stream.destroyed || stream.state.remoteClose === 1) return
  if (stream.headersSent) return void stream.close(constants.NGHTTP2_CANCEL)
  stream.respond({ ':status': 408, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(TIMEOUT_BODY.length) })
  stream.end(TIMEOUT_BODY)
  // Stop the upload too (RFC 9113 §8.1: NO_ERROR after a complete response).
  stream.once('finish', () => { if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR) })
}

/** The open HTTP/2 sessions of a server made by {@link createTlsServer} (for tests and drain). */
export function openSessions(server: unknown): ReadonlySet<ServerHttp2Session> {
  return SESSIONS.get(server as Http2SecureServer) ?? new Set()
}
