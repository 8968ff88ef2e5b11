import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Socket } from 'node:net'
import { bindServer } from './bind.js'
import { AccessLog, type AccessLogFormat } from './access-log.js'
import { cleanups, continueOnRead, createNodeHandler } from './node.js'
import type { Carafe } from '../core/app.js'
import { runUnfinishedCleanups, type RequestSettings } from '../core/request.js'
import type { TlsOptions } from './tls.js'
import { handleUpgrade, WS_PEER } from '../realtime/upgrade.js'
import { assertPeerInstalled } from '../util/peer.js'

/** Options for `app.listen()`. Every limit is on by default. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. @default 8000 */
  port?: number
  /** Address to bind. @default '::' (dual-stack, like Python's http.server), falling back to '0.0.0.0' */
  host?: string
  /** Access-log format, or `false` for none. @default false for listen(), 'default' for run() */
  log?: AccessLogFormat | false
  /** Largest request head (request line and headers) in bytes; 431 past it. @default 16384 */
  maxHeaderSize?: number
  /** Longest request target in characters; 414 past it. @default 8192 */
  maxUrlLength?: number
  /** Time for the request head to arrive, in ms; 408 past it (stops slow-header attacks). @default 30000 */
  headersTimeout?: number
  /** Time for the whole request to arrive, in ms; 408 past it. @default 300000 */
  requestTimeout?: number
  /**
   * How long an idle keep-alive connection stays open, in ms. Longer than the idle timeouts
   * of the proxies and load balancers that reuse connections to the app (nginx's upstream
   * `keepalive_timeout` is 60 s, AWS ALB's 60 s): with Node's 5 s, the app closes a
   * connection just as the proxy sends a request on it, and the proxy answers 502
   * (nodejs/node#20256). @default 65000
   */
  keepAliveTimeout?: number
  /** How long shutdown waits for in-flight requests before closing their connections, in ms. @default 10000 */
  shutdownTimeout?: number
  /**
   * @internal Connections come from a `carafe start` supervisor (`server.emit('connection')`)
   * instead of a socket of our own; draining then keeps idle keep-alive connections open
   * until the deadline, since a proxy may be sending a request on one.
   */
  external?: boolean
  /**
   * Serve HTTPS: the certificate and key (PEM text, PEM files, or `{ selfSigned: true }` for
   * local development). `false` or absent: plain HTTP. The fields: `cert`/`key` (PEM text), `certFile`/`keyFile`, `passphrase`, `selfSigned` (see docs/tls.md).
   * @default undefined (plain HTTP)
   */
  tls?: TlsOptions | false
  /**
   * With `tls`: speak HTTP/2 to clients that offer it (ALPN), HTTP/1.1 to the others, on the
   * same port. `false`: HTTPS over HTTP/1.1 only. Ignored without `tls` (no cleartext h2c).
   * @default true
   */
  http2?: boolean
  /** Streams one HTTP/2 connection may have open at once (announced in its SETTINGS). @default 100 */
  maxConcurrentStreams?: number
}

/** Options for `run()`: `listen()`'s, plus whether to print the banner. */
export interface RunOptions extends ListenOptions {
  /** Turn on debug mode (error pages with stack and source for loopback clients). @default the app's setting */
  debug?: boolean
  /** Print the `Serving HTTP on …` (`Serving HTTPS on …`) line. @default true */
  quiet?: boolean
}

/** A listening server. */
export interface CarafeServer {
  /** Node's server: an `http.Server`, or with `tls` an `https.Server` or `http2.Http2SecureServer` (typed as the first, whose methods they share). */
  readonly server: Server
  readonly host: string
  readonly port: number
  /** Whether it serves HTTPS. */
  readonly secure: boolean
  /** A URL a browser on this machine can open, e.g. `http://localhost:8000/` (`https://` with `tls`). */
  readonly url: string
  /** Stop accepting, let in-flight requests finish (bounded), close idle keep-alive sockets, run shutdown hooks. */
  close(): Promise<void>
}

/** Start serving `app` on Node's HTTP server. */
export async function listen(app: Carafe, options: ListenOptions = {}): Promise<CarafeServer> {
  const state = { closing: false, open: 0 }
  const log = options.log === undefined || options.log === false ? null : new AccessLog(options.log)
  const maxHeaderSize = options.maxHeaderSize ?? 16384
  // Certificates are read (and checked) before anything starts: a bad path fails here.
  const tlsModule = options.tls === undefined || options.tls === false ? null : await import('./tls.js')
  const tls = tlsModule === null ? null : await tlsModule.loadTls(options.tls as TlsOptions)
  const http2 = tls !== null && options.http2 !== false
  const handler = createNodeHandler(app, { log, maxUrlLength: options.maxUrlLength ?? 8192, state, secure: tls !== null, http2, maxHeaderSize })
  const limits = {
    maxHeaderSize,
    headersTimeout: options.headersTimeout ?? 30_000,
    requestTimeout: options.requestTimeout ?? 300_000,
    keepAliveTimeout: options.keepAliveTimeout ?? 65_000,
    // Check for timed-out heads every second rather than Node's 30 s, so 408 comes on time.
    connectionsCheckingInterval: Math.min(1000, options.headersTimeout ?? 30_000),
  }
  const server = tlsModule === null || tls === null
    ? createServer(limits, handler)
    : tlsModule.createTlsServer(tls, { ...limits, maxConcurrentStreams: options.maxConcurrentStreams ?? 100 }, http2, handler)
  // Open connections, for the Node door: with one, batching its writes has nothing to batch.
  server.on('connection', (socket: Socket) => {
    state.open++
    // The peer address is gone from a closed socket unless read before; Node keeps it once
    // read, so requests whose client left early are still logged with it.
    if (log !== null) void socket.remoteAddress
    socket.once('close', () => { state.open-- })
  })
  // Without this listener Node answers `100 Continue` to every `Expect: 100-continue` at once,
  // so a client is invited to send a body that is then refused (and reset) as too large.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueOnRead(req, res)
    handler(req, res)
  })
  // WebSockets (app.ws): routed and through middleware as HTTP requests are; see realtime/upgrade.ts.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => handleUpgrade(app, req, socket, head))
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, log))
  // An app with WebSocket routes and no `ws`: one clear line now, not a 500 at the first upgrade.
  if (app.routes().some((r) => r.method === 'WS')) assertPeerInstalled(...WS_PEER)
  await app.startup()
  const external = options.external === true
  const host = external ? process.env.CARAFE_BOUND_HOST || (options.host ?? '::') : await bindServer(server, options.port ?? 8000, options.host)
  const addr = server.address()
  const port = external ? Number(process.env.CARAFE_BOUND_PORT ?? options.port ?? 8000) : typeof addr === 'object' && addr !== null ? addr.port : options.port ?? 8000
  const shown = host === '::' || host === '0.0.0.0' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | null = null
  return {
    server,
    host,
    port,
    secure: tls !== null,
    url: `${tls === null ? 'http' : 'https'}://${shown}:${port}/`,
    close() {
      app.markDraining()
      // HTTP/2 sessions get a GOAWAY at once (HTTP/2's "Connection: close": streams in flight finish, the client opens a new connection for the next).
      const goAway = (): void => { if (tlsModule !== null) for (const session of tlsModule.openSessions(server)) session.close() }
      const timeout = options.shutdownTimeout ?? 10_000
      closing ??= (external ? drainKeepingIdle(server, state, timeout, app.requestSettings, goAway) : drain(server, state, timeout, app.requestSettings)).then(() => { log?.flush(); return app.shutdown() })
      return closing
    },
  }
}

/** Stop accepting; close idle keep-alive sockets as they become idle; force the rest after `timeout`; remove what cut-off requests left. */
async function drain(server: Server, state: { closing: boolean }, timeout: number, settings: RequestSettings): Promise<void> {
  state.closing = true
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const sweep = setInterval(() => server.closeIdleConnections(), 50)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeout) })
  await Promise.race([closed, late])
  clearInterval(sweep)
  clearTimeout(timer)
  server.closeAllConnections()
  await closed
  // Requests cut off just now have not reached their own cleanup yet: remove their uploads here.
  await Promise.all([...cleanups, runUnfinishedCleanups(settings)])
}

/**
 * Drain a `carafe start` worker: the supervisor has stopped sending connections; requests
 * in flight finish and every answer from now on says `Connection: close` (the door reads
 * `state.closing`), so each connection closes after its next response. Idle ones are not
 * cut before the deadline: a proxy reusing its upstream connections may be sending a
 * request on one at this very moment, and would answer its client 502.
 */
async function drainKeepingIdle(server: Server, state: { closing: boolean; open: number }, timeout: number, settings: RequestSettings, goAway: () => void): Promise<void> {
  state.closing = true
  goAway()
  const deadline = Date.now() + timeout
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (state.open > 0 && Date.now() < deadline) return
      clearInterval(poll)
      resolve()
    }, 20)
  })
  server.closeAllConnections()
  // Never listened itself: close() only stops its timers (and reports "not running").
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await Promise.all([...cleanups, runUnfinishedCleanups(settings)])
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request took too long to arrive'],
  HPE_HEADERS_TIMEOUT: [408, 'Request Timeout', 'the request headers took too long to arrive'],
  HPE_URI_OVERFLOW: [414, 'URI Too Long', 'the URL is too long'],
}

/** A request Node could not parse: answer 4xx with a reason and close that connection only. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, log: AccessLog | null): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, reason, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'the request is malformed and could not be parsed']
  const body = `${status} ${reason}: ${message}\n`
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  log?.line(socket.remoteAddress ?? '-', '-', '-', '1.1', status, Buffer.byteLength(body))
}

/**
 * Serve until Ctrl+C or SIGTERM: the `run()` of Bottle and Flask. Settings from the CLI
 * (`CARAFE_HOST`, `CARAFE_PORT`, `CARAFE_DEBUG`, `CARAFE_LOG`, and `CARAFE_TLS_CERT` with
 * `CARAFE_TLS_KEY` or `CARAFE_TLS_SELF_SIGNED=1` for HTTPS) override the code's, so
 * `carafe run app.ts --port 9000` works on an app that says `run({ port: 8000 })`. Inside a
 * test it does nothing (see `shouldListen`), so tests can import the app module.
 */
export async function run(app: Carafe, options: RunOptions = {}, callStack?: string): Promise<CarafeServer | undefined> {
  // `carafe routes` imports the script only to read its routes.
  if (process.env.CARAFE_NO_LISTEN === '1' || !shouldListen(callStack)) return undefined
  const env = process.env
  const tls: TlsOptions | false | undefined = env.CARAFE_TLS_SELF_SIGNED === '1' ? { selfSigned: true }
    : env.CARAFE_TLS_CERT !== undefined ? { certFile: env.CARAFE_TLS_CERT, keyFile: env.CARAFE_TLS_KEY ?? env.CARAFE_TLS_CERT }
      : options.tls
  const { isWorker, serveAsWorker } = await import('./worker.js')
  if (isWorker()) {
    if (app.secrets.length === 0) {
      console.error('carafe start: the app has no secret: set CARAFE_SECRET (make one with `carafe secret`; a .env file next to the app is read) or pass secrets to new Carafe()')
      process.exit(1)
    }
    ;(app as { debug: boolean }).debug = false
    const logEnv = env.CARAFE_LOG
    const log = logEnv === 'off' ? false : (logEnv as AccessLogFormat | undefined) ?? options.log ?? 'combined'
    return serveAsWorker(app, { ...options, log, quiet: true, tls }, listen)
  }
  const port = env.CARAFE_PORT !== undefined ? Number(env.CARAFE_PORT) : options.port
  const host = env.CARAFE_HOST ?? options.host
  const logEnv = env.CARAFE_LOG
  const log = logEnv === 'off' ? false : (logEnv as AccessLogFormat | undefined) ?? options.log ?? 'default'
  const debug = env.CARAFE_DEBUG === '1' || options.debug === true || app.debug
  if (debug) {
    process.setSourceMapsEnabled(true)
    ;(app as { debug: boolean }).debug = true
  }
  // `carafe run --reload`: open pages reload when the app has restarted with the change.
  if (env.CARAFE_RELOAD === '1' && env.CARAFE_LIVE !== '0') {
    const { liveReload } = await import('./live.js')
    app.use(liveReload().plugin)
  }
  let server: CarafeServer
  try {
    server = await listen(app, { ...options, port, host, log, tls })
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    // A certificate or key that cannot be used: the message names the file.
    if (err.code?.startsWith('ERR_TLS') === true || err.code === 'ERR_MISSING_DEPENDENCY') {
      console.error(`carafe: cannot serve${err.code.startsWith('ERR_TLS') ? ' HTTPS' : ''}: ${err.message}`)
      process.exit(1)
    }
    const where = `${host ?? '::'} port ${port ?? 8000}`
    if (err.code === 'EADDRINUSE') console.error(`carafe: cannot serve on ${where}: the port is already in use (pick another with --port)`)
    else if (err.code === 'EACCES') console.error(`carafe: cannot serve on ${where}: permission denied (ports below 1024 need privileges)`)
    else console.error(`carafe: cannot serve on ${where}: ${err.message}`)
    process.exit(1)
  }
  if (options.quiet !== true) {
    const h = server.host
    // A wildcard address is not one to type in a browser: the URL says localhost (as `carafe start`'s does).
    const urlHost = h === '::' || h === '0.0.0.0' ? 'localhost' : h.includes(':') ? `[${h}]` : h
    const warning = debug ? '\n * Debug mode: on. Error pages show source code to local visitors; never use it in production.' : ''
    const scheme = server.secure ? 'https' : 'http'
    console.log(`Serving ${scheme.toUpperCase()} on ${h} port ${server.port} (${scheme}://${urlHost}:${server.port}/) ...${warning}`)
  }
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130)
    stopping = true
    if (options.quiet !== true && signal === 'SIGINT') console.log('\nKeyboard interrupt received, exiting.')
    server.close().then(() => process.exit(0), (e: unknown) => {
      console.error('carafe: error during shutdown:', e)
      process.exit(1)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return server
}

let skipNoted = false

/**
 * Whether `run()` serves, or leaves the app to the tests that imported it: a test file that
 * imports an app module calling `run()` must not bind a port and hang. `CARAFE_TESTING=1`
 * says "tests" for any runner; `node --test` says it by itself (`NODE_TEST_CONTEXT` in each
 * test file's process), and then `run()` still serves when the module that called it is
 * the process's entry point (a server script a test spawns inherits `NODE_TEST_CONTEXT`).
 * `carafe run` (which sets `CARAFE_APP_FILE`) and `CARAFE_TESTING=0` always serve.
 */
function shouldListen(callStack: string | undefined): boolean {
  const env = process.env
  if (env.CARAFE_TESTING === '1') return false
  if (env.CARAFE_TESTING === '0' || env.CARAFE_APP_FILE !== undefined || env.NODE_TEST_CONTEXT === undefined) return true
  if (calledFromEntry(callStack)) return true
  if (!skipNoted) {
    skipNoted = true
    console.error('carafe: run() does not listen inside a node --test process; test the exported app with app.request() or testClient(app) (a server a test spawns: set CARAFE_TESTING=0, or start it with carafe run)')
  }
  return false
}

/** Carafe's own folder (the package root): frames under it are not the app's. */
const OWN_ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')

/** True when the first frame of `stack` outside Carafe is the process's entry script (`process.argv[1]`). */
function calledFromEntry(stack: string | undefined): boolean {
  const entry = process.argv[1]
  if (stack === undefined || entry === undefined) return false
  const main = realOrSame(path.resolve(entry))
  for (const m of stack.matchAll(/(?:\(|at )(?:file:\/\/)?(\/[^():\n]+):\d+:\d+\)?$/gm)) {
    const file = realOrSame(decodeURIComponent(m[1]!))
    const own = ['dist', 'src', path.join('build', 'src')].some((d) => file.startsWith(path.join(OWN_ROOT, d) + path.sep))
    if (!own) return file === main
  }
  return false
}

function realOrSame(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return p
  }
}

export type { IncomingMessage, ServerResponse }
