import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import { Context } from '../core/context.js'
import type { Dispatcher } from '../core/dispatch.js'
import { STATUS_TEXT } from '../core/errors.js'
import type { RequestSettings } from '../core/request.js'
import type { AppServices } from '../core/services.js'
import { NodeRequest } from '../server/node.js'
import { HOST_RE } from '../util/proxy.js'
import { requirePeer } from '../util/peer.js'
import { CLOSE_TRY_LATER, type RealtimeHub } from './hub.js'
import { ACCEPTED, type WebSocketEntry } from './route.js'
import { CarafeSocket } from './socket.js'

/** What the upgrade door needs of the app. */
export interface UpgradeApp extends AppServices {
  readonly requestSettings: RequestSettings
  dispatcher(): Dispatcher
  /** The app's real-time state (made on first use). */
  realtime(): RealtimeHub
}

type WsModule = typeof import('ws')

let wsModule: WsModule | null = null
/** One `WebSocketServer` per hub and `maxPayload` (ws reads the limit from its server). */
const servers = new WeakMap<RealtimeHub, Map<number, WebSocketServer>>()
/** Headers the app's middleware set (a session cookie) that go with the 101 answer. */
const extraHeaders = new WeakMap<IncomingMessage, string[]>()
const NO_PARAMS = Object.freeze({}) as Record<string, unknown>
/** Upgrades through middleware right now, counted against `maxConnections` with the open sockets. */
const pending = new WeakMap<RealtimeHub, number>()

/**
 * The WebSocket door, for the Node server's `upgrade` event. The request takes the path
 * HTTP requests take: the same canonical path, the router (WS routes are their own method
 * in the one route tree, so a prefix guard sees the path the route sees), the app's and
 * the route's middleware (session, auth, guards). Only when the WS route's handler ran and
 * nothing changed the answer after it is the connection upgraded; anything else on the
 * context (a guard's 401, a 404) is written to the socket as an HTTP answer, then closed.
 *
 * Cross-site WebSocket hijacking: a browser sends cookies with a WebSocket handshake to any
 * site, and the same-origin policy does not apply to WebSockets, so any page could open one
 * in its visitor's name. Browsers always send `Origin` with it: one that is not the app's
 * own (or in `trustedOrigins`) is refused with 403. No `Origin` is a client that is not a
 * browser, which has no ambient cookies to abuse.
 */
export function handleUpgrade(app: UpgradeApp, req: IncomingMessage, socket: Duplex, head: Buffer, secure = false): void {
  // A client resetting mid-handshake must not become an uncaught 'error'.
  socket.on('error', () => socket.destroy())
  const hub = app.realtime()
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return answer(socket, 400, 'only WebSocket upgrades are served here')
  if (req.method !== 'GET') return answer(socket, 400, 'a WebSocket handshake is a GET request')
  if (hub.closing) return answer(socket, 503, 'the server is shutting down', 'upgrade refused: shutting down')
  const busy = hub.size + (pending.get(hub) ?? 0)
  if (busy >= hub.settings.maxConnections) return answer(socket, 503, 'too many WebSocket connections; try again later', `upgrade refused: ${busy} connections open (maxConnections)`)
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  const host = req.headers.host
  if (path.charCodeAt(0) !== 47 /* / */) return answer(socket, 400, 'the request target must be a path starting with "/"')
  if (host !== undefined && !HOST_RE.test(host)) return answer(socket, 400, 'the Host header is not a valid host name (host or host:port)')
  // Over TLS (an https server) the app's own origin is https://: the Origin check needs it.
  if ((req.socket as { encrypted?: boolean }).encrypted === true) secure = true
  const r = new NodeRequest(req, path, q < 0 ? '' : url.slice(q + 1), app.requestSettings, secure, host)
  const origin = req.headers.origin
  if (origin !== undefined && !originAllowed(origin, r.origin, app.requestSettings.trustedOrigins)) {
    return answer(socket, 403, 'cross-site WebSocket refused: the Origin is not this site and not in trustedOrigins', `upgrade refused: Origin ${origin} is not ${r.origin} nor in trustedOrigins`)
  }
  const c = new Context(app, r, NO_PARAMS)
  pending.set(hub, (pending.get(hub) ?? 0) + 1)
  const done = (): void => {
    pending.set(hub, (pending.get(hub) ?? 1) - 1)
    if (socket.destroyed) return
    const entry = ACCEPTED.get(c)
    if (entry === undefined || c.statusCode !== 101) return writeContext(socket, c)
    // Shutdown began while the middleware ran: its 1001 round is over, so no new socket.
    if (hub.closing) return answer(socket, 503, 'the server is shutting down', 'upgrade refused: shutting down')
    try {
      upgrade(app, hub, entry, c, req, socket, head)
    } catch (e) {
      console.error('[carafe] websocket: upgrade failed:', e)
      answer(socket, 500, 'the server could not open the WebSocket')
    }
  }
  const out = app.dispatcher().handle(c, true)
  if (out === undefined) done()
  else out.then(done, (e) => { console.error('[carafe] websocket: dispatch failed:', e); done() })
}

function upgrade(app: UpgradeApp, hub: RealtimeHub, entry: WebSocketEntry, c: Context<any>, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const wss = serverFor(hub, entry.maxPayload ?? hub.settings.maxPayload)
  const extra = headerLines(c)
  if (extra.length > 0) extraHeaders.set(req, extra)
  wss.handleUpgrade(req, socket, head, (raw: WebSocket) => {
    const ws = new CarafeSocket(raw, () => hub.pubsub, hub.settings.maxBufferedAmount, (slow) => {
      console.error(`[carafe] websocket: ${c.req.path}: the client does not read (over ${hub.settings.maxBufferedAmount} bytes queued); closed with 1013`)
      slow.close(CLOSE_TRY_LATER, 'client too slow')
      // It does not read, so it will not read the close frame either.
      raw.terminate()
    })
    const session = c.battery('session')
    const user = c.battery('auth')?.user
    hub.add(ws, { session: session?.id ?? null, user: userKey(user) })
    const { handlers } = entry
    const report = (what: string, e: unknown): void => {
      console.error(`[carafe] websocket: ${c.req.path}: ${what} threw:`, e)
    }
    const call = (what: string, fn: () => unknown): void => {
      try {
        const out = fn()
        if (out instanceof Promise) out.catch((e: unknown) => report(what, e))
      } catch (e) {
        report(what, e)
      }
    }
    raw.on('pong', () => hub.pong(ws))
    // The hot path of a socket: no closure or promise per message, unless the handler makes one.
    const onMessage = handlers.message
    raw.on('message', (data, isBinary) => {
      hub.pong(ws)
      if (onMessage === undefined) return
      const bytes = Buffer.isBuffer(data) ? data : toBuffer(data)
      try {
        const out = onMessage(ws, isBinary ? bytes : bytes.toString('utf8'), c) as unknown
        if (out instanceof Promise) out.catch((e: unknown) => report('message()', e))
      } catch (e) {
        report('message()', e)
      }
    })
    raw.on('error', (e: Error & { code?: string }) => {
      // ws closes the socket itself (1009 too big, 1007 bad UTF-8, 1002 protocol error).
      console.error(`[carafe] websocket: ${c.req.path}: ${e.code ?? 'error'}: ${e.message}`)
    })
    raw.on('close', (code, reason) => {
      hub.remove(ws)
      if (handlers.close !== undefined) call('close()', () => handlers.close!(ws, code, reason.toString('utf8'), c))
    })
    if (handlers.open !== undefined) call('open()', () => handlers.open!(ws, c))
  })
}

/** What the logout registry keys a user by (as context.ts does for logout): its `id` when it has one, else the object. */
export function userKey(user: unknown): unknown {
  if (user === null || user === undefined) return null
  const id = (user as { id?: unknown }).id
  return id === undefined ? user : id
}

/** The package and install line of `app.ws()`'s peer (checked at listen(), loaded at the first upgrade). */
export const WS_PEER = ['ws', 'ws@^8.17.1', 'app.ws()'] as const

function serverFor(hub: RealtimeHub, maxPayload: number): WebSocketServer {
  wsModule ??= requirePeer<WsModule>(...WS_PEER)
  let map = servers.get(hub)
  if (map === undefined) servers.set(hub, (map = new Map()))
  let wss = map.get(maxPayload)
  if (wss === undefined) {
    // clientTracking off: the hub keeps the sockets (ws would keep a second set).
    wss = new wsModule.WebSocketServer({ noServer: true, maxPayload, clientTracking: false, perMessageDeflate: false })
    wss.on('headers', (headers: string[], req: IncomingMessage) => {
      const extra = extraHeaders.get(req)
      if (extra !== undefined) headers.push(...extra)
    })
    map.set(maxPayload, wss)
  }
  return wss
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
}

/** `Set-Cookie` and other headers the middleware put on `c`, as raw header lines for the 101. */
function headerLines(c: Context<any>): string[] {
  const out: string[] = []
  const extra = c.responseHeaders
  if (extra === null) return out
  for (const k in extra) {
    const v = extra[k]!
    for (const one of Array.isArray(v) ? v : [v]) out.push(`${k}: ${one}`)
  }
  return out
}

function normalize(origin: string): string | null {
  try {
    const o = new URL(origin).origin
    return o === 'null' ? null : o
  } catch {
    return null
  }
}

function originAllowed(origin: string, own: string, trusted: readonly string[]): boolean {
  const o = normalize(origin)
  return o !== null && (o === normalize(own) || trusted.includes(o))
}

/** Write an HTTP answer on a socket that will not be upgraded, then close it; `log` says why (once per refusal). */
function answer(socket: Duplex, status: number, message: string, log?: string): void {
  if (log !== undefined) console.error(`[carafe] websocket: ${log}`)
  const body = `${status} ${STATUS_TEXT[status] ?? 'Error'}: ${message}\n`
  writeRaw(socket, status, { 'content-type': 'text/plain; charset=utf-8' }, body)
}

/** The answer dispatch left on `c` (a guard's 401 or redirect, a 404), as HTTP/1.1 on the raw socket. */
function writeContext(socket: Duplex, c: Context<any>): void {
  const status = c.statusCode === 101 ? 500 : c.statusCode
  const headers: Record<string, string | string[]> = {}
  if (c.contentType !== null) headers['content-type'] = c.contentType
  const extra = c.responseHeaders
  if (extra !== null) for (const k in extra) headers[k] = extra[k]!
  const b = c.responseBody
  // Streams and files are not worth sending on a refused handshake: the status says it.
  const body = typeof b === 'string' || b instanceof Uint8Array ? b : ''
  if (status >= 400) console.error(`[carafe] websocket: upgrade to ${c.req.path} answered ${status}`)
  writeRaw(socket, status, headers, body)
}

function writeRaw(socket: Duplex, status: number, headers: Record<string, string | string[]>, body: string | Uint8Array): void {
  if (socket.destroyed) return
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n`
  for (const k in headers) {
    if (k === 'content-length' || k === 'connection' || k === 'transfer-encoding') continue
    for (const v of Array.isArray(headers[k]) ? headers[k] : [headers[k]!]) head += `${k}: ${v}\r\n`
  }
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
  head += `content-length: ${length}\r\nconnection: close\r\n\r\n`
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]))
}
