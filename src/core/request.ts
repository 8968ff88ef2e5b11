import type { Readable } from 'node:stream'
import { HttpError } from './errors.js'
import { parseQuery } from '../util/query.js'
import { parseCookieHeader } from '../util/cookie.js'
import type { Form } from '../forms/form.js'
import type { UploadLimits } from '../forms/multipart.js'
import type { SpoolDir } from '../forms/uploads.js'
import { canonicalPath, type CanonicalPath } from '../router/canonical.js'
import { clientAddress, HOST_RE, hostnameOf, readForwarded, type TrustFn } from '../util/proxy.js'

/** Per-app settings every request of the app shares (one object, not one per request). */
export interface RequestSettings {
  /** Largest body `json()`, `text()`, `form()` (urlencoded), `bytes()` read, in bytes. */
  readonly bodyLimit: number
  /** Limits for multipart uploads. */
  readonly uploads: UploadLimits
  /** Which proxies in front are believed (compiled from the app's `trustProxy`), or `null` for none. */
  readonly trust: TrustFn | null
  /** Which headers trusted proxies use: `X-Forwarded-*` or RFC 7239 `Forwarded`. */
  readonly proxyHeaders: 'x-forwarded' | 'forwarded'
  /** Origins (`scheme://host[:port]`) trusted besides the request's own, for CSRF and WebSocket checks. */
  readonly trustedOrigins: readonly string[]
  /** The lower-case header a trusted proxy passes the request id in. @default 'x-request-id' */
  readonly requestIdHeader?: string
  /** Makes the id of a request that came without a usable one. @default a random per-process prefix and a counter (`k3Jq9vX2-1a`) */
  readonly genRequestId?: (req: CarafeRequest) => string
}

/**
 * A request id a proxy may hand on: 1 to 200 characters of letters, digits and `._:@/+=-`
 * (UUIDs, ULIDs, AWS trace ids, base64), so it can go into a log line or a header as is.
 */
export const REQUEST_ID_RE = /^[A-Za-z0-9._:@/+=-]{1,200}$/

/** This process's id prefix: 48 random bits, so ids of several workers and restarts do not collide. */
let idPrefix = ''
let idCount = 0

/**
 * A new request id: a random prefix drawn once per process and a counter (`k3Jq9vX2-1a`),
 * unique in practice, and much cheaper than a random UUID per request. Not a secret: do not
 * use it as a token.
 */
export function newRequestId(): string {
  if (idPrefix === '') idPrefix = randomPrefix()
  return `${idPrefix}-${(++idCount).toString(36)}`
}

function randomPrefix(): string {
  const bytes = new Uint8Array(6)
  crypto.getRandomValues(bytes)
  return Buffer.from(bytes).toString('base64url')
}

/** Requests with cleanups still to run, per app (its settings object); shutdown runs what is left. */
const UNFINISHED = new WeakMap<RequestSettings, Set<CarafeRequest>>()

/**
 * Run the cleanups of every request of an app that has not run them yet. The server calls
 * this at shutdown, once every connection is closed: a request cut off there (an upload in
 * flight) may still be unwinding when the process exits, and its temporary files must not
 * outlive it.
 */
export function runUnfinishedCleanups(settings: RequestSettings): Promise<void> {
  const open = UNFINISHED.get(settings)
  if (open === undefined) return Promise.resolve()
  return Promise.all([...open].map((r) => r.runCleanups())).then(() => undefined)
}

/**
 * The incoming request, the same for both doors. Header names are case-insensitive; the
 * body is read once (with the size limit enforced while streaming) and cached, so
 * middleware and the handler can each call `json()`.
 */
export abstract class CarafeRequest {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string
  /** The raw path (percent-encoded, as sent, the whole of it even inside a mounted app), without the query. */
  readonly path: string
  /**
   * The path every decision is made on (decoded once, per segment; see `router/canonical.ts`).
   * Guards, the router, the static engine and mounts all read this, never `path`.
   */
  readonly canonical: CanonicalPath
  /** The raw query string without `?` (empty when none). */
  readonly rawQuery: string
  #query: Map<string, string[]> | null = null
  #cookies: Map<string, string> | null = null
  #body: Promise<Uint8Array> | null = null
  #form: Promise<Form> | null = null
  #bodyLimit: number
  #cleanups: Array<() => unknown> | null = null
  readonly settings: RequestSettings
  /** Set when the body was refused unread, so the connection must close after the response. */
  bodyRefused = false

  constructor(method: string, path: string, rawQuery: string, settings: RequestSettings) {
    this.method = method
    this.path = path
    this.canonical = canonicalPath(path)
    this.rawQuery = rawQuery
    this.settings = settings
    this.#bodyLimit = settings.bodyLimit
  }

  /** One request header (case-insensitive name), or `undefined`. */
  abstract header(name: string): string | undefined
  /** All request headers as lower-case name/value pairs. */
  abstract headers(): Array<[string, string]>
  /** The full URL, e.g. `http://localhost:8000/a?b=1`. */
  abstract get url(): string
  /** The WHATWG `Request`, built on first use on the Node door (it costs an allocation of many objects). */
  abstract get raw(): Request
  /** The address of the socket's peer (the client, or the proxy in front), when the door knows it. */
  abstract get remoteAddress(): string | undefined
  /** The `Host` the door received (already checked by the door), or `undefined`. */
  protected abstract get hostHeader(): string | undefined
  /** Read the whole body, stopping with 413 as soon as it passes `limit` bytes. */
  protected abstract readBody(limit: number): Promise<Uint8Array>
  /** The body as a Node stream, for parsers that stream (multipart). */
  protected abstract bodyStream(): Readable
  /** True when the connection itself is TLS. */
  protected abstract get encrypted(): boolean

  #proxied: { readonly ip: string | undefined; readonly proto: 'http' | 'https'; readonly host: string } | null = null

  /**
   * Client address, scheme and host, decided once per request: from the socket and the
   * `Host` the door checked, or, when the socket's peer is a trusted proxy (the app's
   * `trustProxy`), from its forwarding headers (read once, for all three).
   */
  #resolve(): { readonly ip: string | undefined; readonly proto: 'http' | 'https'; readonly host: string } {
    if (this.#proxied !== null) return this.#proxied
    const peer = this.remoteAddress
    const trust = this.settings.trust
    let ip = peer
    let proto: 'http' | 'https' = this.encrypted ? 'https' : 'http'
    let host = this.hostHeader ?? 'localhost'
    // No address (a Fetch host that passes none): only a hop-count trust can vouch for the peer.
    if (trust !== null && trust(peer ?? '', 0)) {
      const said = readForwarded((n) => this.header(n), this.settings.proxyHeaders)
      ip = clientAddress(peer ?? '', said.for, trust) || undefined
      if (said.proto === 'https' || said.proto === 'http') proto = said.proto
      if (said.host !== undefined && HOST_RE.test(said.host)) host = said.host
    }
    return (this.#proxied = { ip, proto, host })
  }

  #id: string | null = null

  /**
   * The request's id, for logs and for tracing it across services: the `X-Request-Id` the
   * proxy in front sent, when the socket's peer is a trusted proxy (the app's `trustProxy`)
   * and the id is a sane token (1–200 characters of `A-Za-z0-9._:@/+=-`); else one Carafe makes (the app's
   * `genRequestId`), on first read only. A client talking to the app directly cannot choose
   * its id, so it cannot make its lines look like someone else's.
   */
  get requestId(): string {
    if (this.#id !== null) return this.#id
    const s = this.settings
    const trust = s.trust
    if (trust !== null && trust(this.remoteAddress ?? '', 0)) {
      const sent = this.header(s.requestIdHeader ?? 'x-request-id')
      if (sent !== undefined && REQUEST_ID_RE.test(sent)) return (this.#id = sent)
    }
    const made = s.genRequestId === undefined ? newRequestId() : String(s.genRequestId(this))
    return (this.#id = made)
  }

  /**
   * The client's IP address: the socket's peer, or, behind trusted proxies (the app's
   * `trustProxy`), the rightmost address in `X-Forwarded-For` (or `Forwarded`) that is not
   * a trusted proxy. A client cannot spoof it by sending the header itself.
   */
  get ip(): string | undefined {
    return this.#resolve().ip
  }

  /** `https` on TLS, or when a trusted proxy says so (`X-Forwarded-Proto` / `Forwarded: proto=`); else `http`. */
  get protocol(): 'http' | 'https' {
    return this.#resolve().proto
  }

  /**
   * The host the client asked for, with its port when it sent one (`example.com:8080`):
   * the `Host` header, or what a trusted proxy reports (`X-Forwarded-Host`). Always a
   * syntactically valid host (the doors refuse others with 400).
   */
  get host(): string {
    return this.#resolve().host
  }

  /** {@link host} without the port, lower-case. */
  get hostname(): string {
    return hostnameOf(this.host)
  }

  /** The request's own origin, `protocol://host` (what CSRF and WebSocket checks compare `Origin` with). */
  get origin(): string {
    return `${this.protocol}://${this.host}`
  }

  /** The media type of the body, lower-case, without parameters (`application/json`), or `''`. */
  get contentType(): string {
    const v = this.header('content-type')
    if (v === undefined) return ''
    const semi = v.indexOf(';')
    return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase()
  }

  /** Run `fn` when the request is over (response sent, failed, or the client left). */
  addCleanup(fn: () => unknown): void {
    if (this.#cleanups === null) {
      this.#cleanups = []
      let open = UNFINISHED.get(this.settings)
      if (open === undefined) UNFINISHED.set(this.settings, open = new Set())
      open.add(this)
    }
    this.#cleanups.push(fn)
  }

  /** Run the cleanups (the doors call this once the response is done); settles when all have. */
  runCleanups(): Promise<void> {
    const list = this.#cleanups
    if (list === null) return Promise.resolve()
    this.#cleanups = null
    UNFINISHED.get(this.settings)?.delete(this)
    return Promise.all(list.map(async (fn) => {
      try {
        await fn()
      } catch (e) {
        console.error('[carafe] request cleanup failed:', e)
      }
    })).then(() => undefined)
  }

  /** True when cleanups are waiting (the doors then wait for the response to finish). */
  get hasCleanups(): boolean {
    return this.#cleanups !== null
  }

  /**
   * The body as a form: `application/x-www-form-urlencoded` (within `bodyLimit`) or
   * `multipart/form-data` (streamed; files beyond a small size spooled to temporary files
   * that are deleted when the request ends). Another content type is a 400.
   */
  form(limits?: UploadLimits): Promise<Form> {
    this.#form ??= this.#readForm(limits)
    return this.#form
  }

  async #readForm(limits: UploadLimits | undefined): Promise<Form> {
    const type = this.contentType
    const { Form } = await import('../forms/form.js')
    if (type === 'application/x-www-form-urlencoded') {
      const form = new Form()
      const max = limits?.fields ?? this.settings.uploads.fields ?? 1000
      const fields = parseQuery(await this.text(), max)
      for (const [k, values] of fields) for (const v of values) form.append(k, v)
      return form
    }
    if (type === 'multipart/form-data') {
      if (this.method === 'GET' || this.method === 'HEAD') return new Form()
      const [{ parseMultipart }, { SpoolDir }] = await Promise.all([import('../forms/multipart.js'), import('../forms/uploads.js')])
      const spool: SpoolDir = new SpoolDir()
      this.addCleanup(() => spool.cleanup())
      try {
        return await parseMultipart(this.bodyStream(), this.header('content-type')!, { ...this.settings.uploads, ...limits }, spool)
      } catch (e) {
        this.bodyRefused = true
        throw e
      }
    }
    if (type === '' && (this.method === 'GET' || this.method === 'HEAD')) return new Form()
    throw new HttpError(400, `expected a form body (application/x-www-form-urlencoded or multipart/form-data), but the request's Content-Type is ${type === '' ? 'missing' : type}`, { code: 'ERR_NOT_A_FORM' })
  }

  /** The first value of a query parameter, or `undefined` (Flask's `request.args.get`). */
  query(name: string): string | undefined {
    return this.#queryMap().get(name)?.[0]
  }

  /** Every value of a repeated query parameter (`?tag=a&tag=b` gives `['a', 'b']`). */
  queries(name: string): string[] {
    return this.#queryMap().get(name)?.slice() ?? []
  }

  /** All query parameters, first value of each, in an object with no prototype. */
  queryObject(): Record<string, string> {
    const out = Object.create(null) as Record<string, string>
    for (const [k, v] of this.#queryMap()) out[k] = v[0]!
    return out
  }

  /** A request cookie by name, or `undefined`. */
  cookie(name: string): string | undefined {
    this.#cookies ??= parseCookieHeader(this.header('cookie'))
    return this.#cookies.get(name)
  }

  /** The body as bytes (read once, then cached). */
  bytes(): Promise<Uint8Array> {
    this.#body ??= this.method === 'GET' || this.method === 'HEAD' ? Promise.resolve(new Uint8Array(0)) : this.readBody(this.#bodyLimit)
    return this.#body
  }

  /** The body as an `ArrayBuffer` (a copy). */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes()
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }

  /** The body decoded as UTF-8 text. */
  text(): Promise<string> {
    return this.bytes().then(utf8)
  }

  /**
   * The body parsed as JSON. An empty body is a 400 ("expected a JSON body"), malformed JSON
   * is a 400 naming the parse error; neither is ever a 500.
   */
  json<T = unknown>(): Promise<T> {
    return this.text().then(parseJson<T>)
  }

  /** Change the body limit for this request (for a route that takes big bodies). */
  setBodyLimit(bytes: number): void {
    this.#bodyLimit = bytes
  }

  #queryMap(): Map<string, string[]> {
    this.#query ??= parseQuery(this.rawQuery)
    return this.#query
  }
}

function parseJson<T>(text: string): T {
  if (text.trim() === '') throw new HttpError(400, 'expected a JSON body, but the request body is empty', { code: 'ERR_EMPTY_BODY' })
  let value: T
  try {
    value = JSON.parse(text) as T
  } catch (e) {
    throw new HttpError(400, `malformed JSON in the request body: ${(e as Error).message}`, { code: 'ERR_BAD_JSON', cause: e })
  }
  // Prototype poisoning (as Fastify refuses it): a "__proto__" key, or "constructor" holding
  // "prototype", becomes dangerous the moment the value is merged into another object. Only
  // a body that could spell them (plainly or with \u escapes) needs the slow scan.
  if ((text.includes('__proto__') || text.includes('prototype') || text.includes('\\u')) && isPoisoned(value)) {
    throw new HttpError(400, 'the JSON body has a "__proto__" or "constructor.prototype" key, which is not allowed', { code: 'ERR_PROTO_POISONING' })
  }
  return value
}

/**
 * Walk the whole parsed value with an explicit stack: a depth limit would let a key nested
 * one level deeper through, and recursion would overflow on deep input. `JSON.parse`
 * output is a tree (no cycles), so every object is visited once.
 */
function isPoisoned(root: unknown): boolean {
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const value = stack.pop()
    if (typeof value !== 'object' || value === null) continue
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i]
        if (typeof v === 'object' && v !== null) stack.push(v)
      }
      continue
    }
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true
    const record = value as Record<string, unknown>
    const ctor = record.constructor
    if (Object.prototype.hasOwnProperty.call(value, 'constructor') && typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return true
    for (const k in record) {
      const v = record[k]
      if (typeof v === 'object' && v !== null) stack.push(v)
    }
  }
  return false
}

function utf8(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8')
}

/** Error for a body over its limit; the doors also use it while streaming. */
export function bodyTooLarge(limit: number): HttpError {
  return new HttpError(413, `the request body is larger than the limit of ${limit} bytes`, { code: 'ERR_BODY_TOO_LARGE' })
}
