import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable, pipeline, type Transform } from 'node:stream'
import { Context, type HeaderValue } from '../core/context.js'
import type { Dispatcher } from '../core/dispatch.js'
import { CarafeRequest, bodyTooLarge, type RequestSettings } from '../core/request.js'
import type { AppServices } from '../core/services.js'
import type { AccessLog } from './access-log.js'
import { HOST_RE } from '../util/proxy.js'
import { copyResponseHeaders, exactLength, isFramingHeader } from './framing.js'
import { dropConnectionHeaders, h2Authority, headerListSize, resetAfter } from './h2.js'

interface NodeApp extends AppServices {
  readonly requestSettings: RequestSettings
  dispatcher(): Dispatcher
}

/** Settings of the Node door. */
export interface NodeHandlerOptions {
  /** Where each request is logged, or `null` for no log. */
  log: AccessLog | null
  /** Longest request target accepted (414 past it). */
  maxUrlLength: number
  /** `closing` is set while the server drains (responses then close their connection); `open` counts open connections. */
  state: { closing: boolean; open?: number }
  /** Requests arrive over TLS (for `c.req.url`). */
  secure?: boolean
  /**
   * HTTP/2 requests may arrive (an `Http2SecureServer`'s compat `Http2ServerRequest` and
   * `Http2ServerResponse`, which this door serves as it serves `node:http`'s objects).
   */
  http2?: boolean
  /** With `http2`: the largest HTTP/2 header list (RFC 9113 §6.5.2 size), 431 past it; HTTP/1's limit is Node's parser's. @default 16384 */
  maxHeaderSize?: number
}

const NO_PARAMS = Object.freeze({}) as Record<string, unknown>
/** `writeHead` header lists for the common content types, built once instead of per request. */
const TYPE_HEADERS = new Map<string, string[]>()
/** Request cleanups still running (temporary upload files being removed); shutdown waits for them. */
export const cleanups = new Set<Promise<void>>()
/** Scratch header list for the hot path; filled and consumed synchronously by `writeHead`. */
const SIZED = ['content-type', '', 'content-length', '']
/** The last `Host` value that passed the check: nearly every request repeats it, so most skip the regex. */
let goodHost = ''

/**
 * The Node door: dispatches `node:http` requests through the app without building WHATWG
 * `Request`/`Response` objects (a handler that wants one asks for `c.req.raw`), and writes
 * the response straight to the `ServerResponse`.
 */
export function createNodeHandler(app: NodeApp, options: NodeHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { log, maxUrlLength, state } = options
  const secure = options.secure === true
  const http2 = options.http2 === true
  const maxHeaderSize = options.maxHeaderSize ?? 16384
  return function carafeNode(req, res) {
    // The one HTTP/2 test on the plain-HTTP path: `http2` is false there.
    const h2 = http2 && req.httpVersionMajor === 2
    // A lone connection has nothing to batch with: its answers go out at once.
    if (state.open !== undefined && state.open > 1) startTurn()
    const url = req.url ?? '/'
    if (url.length > maxUrlLength) return refuse(req, res, 414, `the URL is longer than ${maxUrlLength} characters`, log)
    const q = url.indexOf('?')
    let path = q < 0 ? url : url.slice(0, q)
    // Node announces SETTINGS_MAX_HEADER_LIST_SIZE but does not enforce it on what arrives.
    if (h2 && headerListSize(req.rawHeaders) > maxHeaderSize) return refuse(req, res, 431, `the request headers are larger than ${maxHeaderSize} bytes`, log)
    let host = h2 ? h2Authority(req.rawHeaders) : rawHost(req.rawHeaders)
    // RFC 9112 §3.2: two Host headers are a 400; Node would keep the first, a proxy in front may have used the other.
    if (host === null) return refuse(req, res, 400, h2 ? 'the request has more than one Host header, or one that differs from :authority' : 'the request has more than one Host header', log)
    if (path.charCodeAt(0) !== 47 /* / */) {
      // RFC 9112 §3.2: absolute-form targets come from proxies; `*` only with OPTIONS. Its
      // authority replaces the Host header (§3.2.2), so it is checked the same way.
      const abs = /^https?:\/\/([^/?#]*)(\/[^?#]*)?/i.exec(path)
      if (abs === null) return refuse(req, res, 400, 'the request target must be a path starting with "/"', log)
      host = abs[1]!
      path = abs[2] ?? '/'
    }
    // The host goes into c.req.url, c.req.raw and the URL a mounted Fetch handler gets: a
    // `/`, `#`, `@` or space in it would move the path or the origin (RFC 9110 §7.2).
    if (host !== undefined && host !== goodHost) {
      if (!HOST_RE.test(host)) return refuse(req, res, 400, 'the Host header is not a valid host name (host or host:port)', log)
      goodHost = host
    }
    const c = new Context(app, new NodeRequest(req, path, q < 0 ? '' : url.slice(q + 1), app.requestSettings, secure, host), NO_PARAMS)
    // RFC 9113 §8.2.2: no Connection header in HTTP/2; a draining session sends GOAWAY instead.
    if (state.closing && !h2) c.header('connection', 'close')
    const pending = app.dispatcher().handle(c)
    if (pending === undefined) defer(c, req, res, log)
    else {
      pending.then(() => {
        // Draining began while the handler ran: this answer closes its connection too.
        if (state.closing) res.shouldKeepAlive = false
        defer(c, req, res, log)
      }, (e) => crash(e, res))
    }
  }
}

/**
 * Finished responses wait in this flat list (context, request, response, log; four slots
 * each) until the end of the event-loop turn their request arrived in, and are then written together.
 * Under load one turn reads many sockets: writing after all of them were read measured
 * 20-25 % less CPU per request than writing inside each read callback (the kernel and the
 * client see one burst per turn). It costs a few µs of latency (the write moves from
 * inside the read callback to the check phase of the same turn), which buys nothing when
 * only one connection is open: then responses are written at once.
 */
let deferred: unknown[] | null = null

/**
 * Called as each request arrives: the first of a turn schedules the flush. Scheduled this
 * early, the flush runs before any end-of-turn work the request itself starts (the static
 * engine's `stat`s), and what finishes after the flush, in the same check phase, is
 * written at once (the list is `null` then) instead of a whole turn later.
 */
function startTurn(): void {
  if (deferred === null) {
    deferred = []
    setImmediate(flushDeferred)
  }
}

/**
 * At most this many answers wait at once; the rest of the turn starts a new list. Batches of
 * 16 measured as fast as unbounded ones, and unbounded ones (50 under the bench's load)
 * kept so many request objects alive across scavenges that V8 grew its young generation:
 * +12 MiB of RSS.
 */
const MAX_DEFERRED = 16 * 4

function defer(c: Context<any>, req: IncomingMessage, res: ServerResponse, log: AccessLog | null): void {
  if (deferred === null) return write(c, req, res, log)
  deferred.push(c, req, res, log)
  if (deferred.length >= MAX_DEFERRED) {
    const full = deferred
    deferred = [] // the end-of-turn flush already scheduled takes what comes next
    writeAll(full)
  }
}

function flushDeferred(): void {
  const list = deferred!
  deferred = null
  writeAll(list)
}

function writeAll(list: unknown[]): void {
  for (let i = 0; i < list.length; i += 4) {
    write(list[i] as Context<any>, list[i + 1] as IncomingMessage, list[i + 2] as ServerResponse, list[i + 3] as AccessLog | null)
  }
}

function write(c: Context<any>, req: IncomingMessage, res: ServerResponse, log: AccessLog | null): void {
  try {
    writeResponse(c, req, res, log)
  } catch (e) {
    crash(e, res)
  }
}

/** A `node:http` request as a {@link CarafeRequest} (also what the WebSocket upgrade door builds). @internal */
export class NodeRequest extends CarafeRequest {
  readonly #req: IncomingMessage
  readonly #secure: boolean
  readonly #hostHeader: string | undefined
  #raw: Request | null = null

  constructor(req: IncomingMessage, path: string, rawQuery: string, settings: RequestSettings, secure: boolean, host: string | undefined) {
    super(req.method ?? 'GET', path, rawQuery, settings)
    this.#req = req
    this.#secure = secure
    this.#hostHeader = host
  }

  protected get hostHeader(): string | undefined {
    return this.#hostHeader === '' ? undefined : this.#hostHeader
  }

  protected get encrypted(): boolean {
    return this.#secure
  }

  protected bodyStream(): Readable {
    return this.#req
  }

  header(name: string): string | undefined {
    const v = this.#req.headers[name.toLowerCase()]
    return Array.isArray(v) ? v.join(', ') : v
  }

  headers(): Array<[string, string]> {
    const raw = this.#req.rawHeaders
    const out: Array<[string, string]> = []
    let cookie = -1
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      // HTTP/2's pseudo-headers (`:method`, `:path`, `:authority`…) are the request line, not headers.
      if (name.charCodeAt(0) === 58 /* : */) continue
      // RFC 9113 §8.2.3: HTTP/2 may split Cookie into one field per crumb; they join with "; ", never ", ".
      if (name === 'cookie' && this.#req.httpVersionMajor === 2) {
        if (cookie >= 0) {
          out[cookie]![1] += `; ${raw[i + 1]!}`
          continue
        }
        cookie = out.length
      }
      out.push([name.toLowerCase(), raw[i + 1]!])
    }
    return out
  }

  /** The full URL: the origin (checked host, trusted proxies' scheme and host) and the target as sent (a raw `\\` escaped, which WHATWG would read as `/`). */
  get url(): string {
    const target = this.rawQuery === '' ? this.path : `${this.path}?${this.rawQuery}`
    return `${this.origin}${target.includes('\\') ? target.replaceAll('\\', '%5C') : target}`
  }

  get remoteAddress(): string | undefined {
    return this.#req.socket.remoteAddress
  }

  /** The incoming message itself, for code that needs Node's API. */
  get node(): IncomingMessage {
    return this.#req
  }

  get raw(): Request {
    if (this.#raw !== null) return this.#raw
    const req = this.#req
    const headers = new Headers()
    for (const [k, v] of this.headers()) headers.append(k, v)
    const hasBody = this.method !== 'GET' && this.method !== 'HEAD'
    const body = hasBody ? (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>) : null
    this.#raw = new Request(this.url, { method: this.method, headers, body, duplex: 'half' } as RequestInit)
    return this.#raw
  }

  protected readBody(limit: number): Promise<Uint8Array> {
    const req = this.#req
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (declared > limit) {
      this.bodyRefused = true
      return Promise.reject(bodyTooLarge(limit))
    }
    return new Promise((resolve, reject) => {
      let first: Buffer | null = null
      let chunks: Buffer[] | null = null
      let size = 0
      const onData = (chunk: Buffer): void => {
        size += chunk.length
        if (size > limit) {
          cleanup()
          this.bodyRefused = true
          req.pause()
          reject(bodyTooLarge(limit))
          return
        }
        if (first === null) first = chunk
        else (chunks ??= [first]).push(chunk)
      }
      const onEnd = (): void => {
        cleanup()
        resolve(chunks !== null ? Buffer.concat(chunks, size) : first ?? Buffer.alloc(0))
      }
      // An aborted upload ends in 'error' (ECONNRESET: aborted) on the request.
      const onError = (e: Error): void => { cleanup(); reject(e) }
      const cleanup = (): void => {
        req.off('data', onData).off('end', onEnd).off('error', onError)
      }
      req.on('data', onData).on('end', onEnd).on('error', onError)
    })
  }
}

/** Write the response state on `c` to `res`. */
export function writeResponse(c: Context<any>, req: IncomingMessage, res: ServerResponse, log: AccessLog | null): void {
  const body = c.responseBody
  const status = c.statusCode
  if (c.req.bodyRefused) {
    if (req.httpVersionMajor === 2) resetAfter(req)
    else {
      res.shouldKeepAlive = false
      lingerAfter(req)
    }
  }
  if (c.req.hasCleanups) {
    const run = (): void => {
      const done = c.req.runCleanups()
      cleanups.add(done)
      void done.then(() => cleanups.delete(done))
    }
    if (res.closed) run()
    else res.once('close', run)
  }
  const list = c.headerList
  if (list !== null && (body === null || body instanceof Uint8Array)) {
    // A prebuilt header set (a cached static file's): written as is, content-length included.
    res.writeHead(status, list as string[])
    if (body === null) res.end()
    else res.end(body)
    if (log !== null) log.write(req, status, body === null ? 0 : body.byteLength, body, c.req)
    return
  }
  const type = c.contentType
  const extra = c.responseHeaders
  if (typeof body === 'string' || body === null || body instanceof Uint8Array) {
    const length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
    const sized = body !== null && status !== 204 && status !== 304
    if (extra === null && type !== null && sized) {
      // Hot path: content type and length only, in a header list reused across requests
      // (writeHead copies it into the header block synchronously).
      SIZED[1] = type
      SIZED[3] = String(length)
      res.writeHead(status, SIZED)
    } else {
      const headers = headerObject(type, extra, req)
      if (sized && headers['content-length'] === undefined) headers['content-length'] = String(length)
      res.writeHead(status, headers)
    }
    if (body === null) res.end()
    else res.end(body)
    if (log !== null) log.write(req, status, length, body, c.req)
    return
  }
  if (body instanceof Response) return void writeFetchResponse(c, body, req, res, log)
  if (extra === null) res.writeHead(status, type === null ? [] : typeHeaders(type))
  else {
    res.writeHead(status, headerObject(type, extra, req))
  }
  if ('kind' in body && body.kind === 'file') {
    if (req.method === 'HEAD' || body.end < body.start) {
      res.end()
      if (log !== null) log.write(req, status, 0, null, c.req)
      return
    }
    // 256 KiB reads instead of the default 64 KiB: measured 1.5x the throughput for big
    // files over loopback, for at most 256 KiB held per download in flight.
    return whenWritable(req, res, log, () => {
      streamTo(createReadStream(body.path, { start: body.start, end: body.end, highWaterMark: 256 * 1024 }), null, req, res, status, log, c.req)
    }, () => {}, c.req)
  }
  const source = body instanceof ReadableStream
    ? Readable.fromWeb(body as import('node:stream/web').ReadableStream)
    : body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array | string>, { objectMode: false })
  whenWritable(req, res, log, () => streamTo(source, null, req, res, status, log, c.req), () => source.destroy(), c.req)
}

/**
 * Run `start` once `res` may write to its socket, or `drop` when its connection is gone first.
 *
 * The threat is a client pipelining requests it never reads the answers to: Node queues
 * the `ServerResponse` of each pipelined request (`res.socket` is `null`) until the ones
 * before it finish, and a queued response that is never reached never emits `close`.
 * Opening its file then would hold a descriptor and a read buffer per queued request
 * (3 connections x 100 GETs of a 4 MiB file: 300 fds, for ever). So a body is opened only
 * once Node hands the response its socket (`socket` event), and the connection closing
 * first (which closes every request queued on it) releases what the handler made.
 */
function whenWritable(req: IncomingMessage, res: ServerResponse, log: AccessLog | null, start: () => void, drop: () => void, r: CarafeRequest): void {
  // The address is gone from the socket once it closes; read now, Node keeps it (a download cut by Ctrl+C is logged with it).
  if (log !== null) void req.socket.remoteAddress
  // An HTTP/2 stream is its own queue (no pipelining): it may write at once.
  if (req.httpVersionMajor === 2 || (res.socket !== null && !res.destroyed)) return start()
  const gone = (): void => {
    res.off('socket', onSocket)
    drop()
    if (log !== null) log.write(req, res.statusCode, -2, null, r)
  }
  const onSocket = (): void => {
    req.off('close', onClose)
    // Inside Node's own 'finish' of the response before: a throw here would be uncaught.
    try {
      start()
    } catch (e) {
      crash(e, res)
    }
  }
  // Queued requests close early only when their connection does (Node aborts them all).
  const onClose = (): void => {
    if (req.socket.destroyed) gone()
  }
  if (req.socket.destroyed) return gone()
  res.once('socket', onSocket)
  req.once('close', onClose)
}

/**
 * Pipe `source` (through `limit`, when a declared length is enforced) to `res`.
 * pipeline() gives backpressure, and destroys the source (closing any file descriptor)
 * when the client goes away mid-stream; a body that fails after the head was sent can
 * only be cut off, so the connection closes and the client sees a truncated message.
 */
function streamTo(source: Readable, limit: Transform | null, req: IncomingMessage, res: ServerResponse, status: number, log: AccessLog | null, r: CarafeRequest): void {
  const done = (err: Error | null | undefined): void => {
    if (err !== undefined && err !== null && !res.destroyed) res.destroy()
    if (log !== null) log.write(req, status, -2, null, r)
  }
  if (limit === null) pipeline(source, res, done)
  else pipeline(source, limit, res, done)
}

/** After a refused body: the longest Carafe keeps reading (and dropping) what the client still sends, in ms. */
const LINGER_TIME = 5_000
/** After a refused body: the most bytes read (and dropped) before the connection is closed anyway. */
const LINGER_BYTES = 64 * 1024 * 1024

/**
 * Close a connection whose request body was refused (413, or a failed upload) the way nginx
 * does (its "lingering close"). A client that sends its whole body before reading, as
 * Python's http.client, requests and browsers do, never sees an answer if the server
 * closes while bytes are still arriving: the unread data makes the kernel reset the
 * connection, and the reset discards the response the client had not read yet. So after
 * the response Carafe only half-closes (FIN), drops the rest of the body as it arrives
 * (no form or JSON parser sees it), and closes once it is all in or after {@link LINGER_TIME} or
 * {@link LINGER_BYTES}, whichever comes first (bounded, so a client cannot keep a
 * connection busy by sending for ever).
 *
 * Node ends a `Connection: close` response with `socket.destroySoon()`, which destroys the
 * socket as soon as the response is flushed; it is wrapped on this one socket.
 */
function lingerAfter(req: IncomingMessage): void {
  const socket = req.socket
  const destroySoon = socket.destroySoon
  socket.destroySoon = function lingerThenClose(): void {
    socket.destroySoon = destroySoon
    if (req.complete || socket.destroyed) return destroySoon.call(socket)
    socket.end()
    let left = LINGER_BYTES
    const timer = setTimeout(() => socket.destroy(), LINGER_TIME)
    const close = (): void => {
      clearTimeout(timer)
      destroySoon.call(socket)
    }
    req.on('data', (chunk: Buffer) => {
      left -= chunk.length
      if (left < 0) socket.destroy()
    })
    req.once('end', close)
    socket.once('close', () => clearTimeout(timer))
    // A body read in part was paused when it was refused: from here on it only drains.
    req.resume()
  }
}

/**
 * Send `100 Continue` (for a request with `Expect: 100-continue`) only once something reads
 * the body (RFC 9110 §10.1.1). A request the app answers without reading it (413 by its
 * declared `Content-Length` against the route's own limit, 401, 404) gets that answer at
 * once, and the client never sends the body. `_read` is the stream's pull hook: every way
 * of reading a `Readable` (`data` events, `pipe`, `read()`, async iteration) goes through it.
 */
export function continueOnRead(req: IncomingMessage, res: ServerResponse): void {
  const read = req._read
  req._read = function continueThenRead(this: IncomingMessage, size: number): void {
    req._read = read
    // Node drains an unread body itself once the response is sent; no `100` after the answer.
    if (!res.headersSent) res.writeContinue()
    read.call(this, size)
  }
}

function writeFetchResponse(c: Context<any>, response: Response, req: IncomingMessage, res: ServerResponse, log: AccessLog | null): void {
  const headers: Record<string, HeaderValue> = {}
  const length = copyResponseHeaders(response, (k, v) => { headers[k] = v })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  if (c.contentType !== null) headers['content-type'] = c.contentType
  const extra = c.responseHeaders
  if (extra !== null) for (const k in extra) if (!isFramingHeader(k)) headers[k] = extra[k]!
  const status = response.status
  const body = response.body
  const empty = body === null || status === 204 || status === 304 || status < 200
  // HEAD describes what GET would send (RFC 9110 §9.3.2): the length, but no body.
  if (length >= 0 && !empty) headers['content-length'] = String(length)
  res.writeHead(status, headers)
  if (empty || req.method === 'HEAD') {
    res.end()
    // An unread body would hold the upstream connection it comes from.
    if (body !== null) body.cancel().catch(() => {})
    if (log !== null) log.write(req, status, 0, null, c.req)
    return
  }
  whenWritable(req, res, log, () => {
    const source = Readable.fromWeb(body as import('node:stream/web').ReadableStream)
    streamTo(source, length >= 0 ? exactLength(length) : null, req, res, status, log, c.req)
  }, () => { body.cancel().catch(() => {}) }, c.req)
}

function typeHeaders(type: string): string[] {
  let h = TYPE_HEADERS.get(type)
  if (h === undefined) {
    h = ['content-type', type]
    if (TYPE_HEADERS.size < 64) TYPE_HEADERS.set(type, h)
  }
  return h
}

/** The response headers as an object; on HTTP/2 without the connection-specific ones Node refuses there. */
function headerObject(type: string | null, extra: Readonly<Record<string, HeaderValue>> | null, req: IncomingMessage): Record<string, HeaderValue> {
  const out: Record<string, HeaderValue> = type === null ? {} : { 'content-type': type }
  if (extra !== null) for (const k in extra) out[k] = extra[k]!
  if (req.httpVersionMajor === 2) dropConnectionHeaders(out)
  return out
}

/** The `Host` header from the raw list: `undefined` when there is none, `null` when there are several. */
function rawHost(raw: string[]): string | undefined | null {
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!
    if (k.length === 4 && (k === 'Host' || k === 'host' || k.toLowerCase() === 'host')) {
      if (host !== undefined) return null
      host = raw[i + 1]!
    }
  }
  return host
}

/** Answer a request Carafe refuses before dispatch (414, 431, 400), closing the connection (HTTP/1; on HTTP/2 only the stream ends). */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, log: AccessLog | null): void {
  const text = `${status} ${status === 414 ? 'URI Too Long' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}: ${message}\n`
  if (req.httpVersionMajor === 2) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  else {
    res.shouldKeepAlive = false
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
  }
  res.end(text)
  if (log !== null) log.write(req, status, Buffer.byteLength(text), null)
}

/** Last resort: dispatch never rejects, so this is a bug in Carafe; fail the one request, keep serving. */
function crash(error: unknown, res: ServerResponse): void {
  console.error('[carafe] internal error while writing a response:', error)
  if (!res.headersSent) {
    // A `writeHead` that threw (a header value Node refuses) has already set the status
    // text and maybe some headers: the 500 must carry none of them ("500 OK").
    for (const name of res.getHeaderNames()) res.removeHeader(name)
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': '26' }
    // HTTP/2 has neither a Connection header nor a reason phrase (Node warns about both).
    if (res.req?.httpVersionMajor === 2) res.writeHead(500, headers)
    else res.writeHead(500, 'Internal Server Error', { ...headers, connection: 'close' })
    res.end('500 Internal Server Error\n')
  } else res.destroy()
}
