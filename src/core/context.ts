import type { StandardSchemaV1 } from '@standard-schema/spec'
import { HttpError } from './errors.js'
import { serializeCookie, type CookieOptions } from '../session/cookie.js'
import { signValue, unsignValue } from '../session/sign.js'
import { errorsByField, settleSchema, ValidationError, type Validated, type ValidationTarget } from '../forms/validate.js'
import type { CarafeRequest } from './request.js'
import type { AppServices } from './services.js'
import { escapeHtml } from '../util/html-escape.js'
import { lazyRequire } from '../util/lazy.js'
import { segmentsOf } from '../router/canonical.js'
import { CarafeError } from './errors.js'
import { AppLogger, type Log } from './logger.js'
import { createSseBody, type SseOptions, type SseStream } from '../realtime/sse.js'
import type { AuthHandle, AuthMethod, Batteries, CurrentUser, FlashMessage, LoginOptions, Session, SessionValue } from './battery.js'

/**
 * Typed per-request state shared by middleware and handlers (`c.set('user', u)`).
 * Augment it to give your keys types:
 *
 * @example
 * declare module 'carafe' { interface ContextVariables { user: { id: number } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ContextVariables {}

/** Response header values: one string, or several (e.g. `set-cookie`). */
export type HeaderValue = string | string[]

/**
 * Something a handler may return that knows how to fill in the response itself, given the
 * context (e.g. `staticFile()`, which needs the request's `Range` and `If-None-Match`).
 */
export interface Respondable {
  respond(c: Context): void | Promise<void>
}

/** A file on disk as a response body: the doors stream it (Node: with backpressure). */
export interface FileBody {
  readonly kind: 'file'
  readonly path: string
  /** First byte, inclusive. */
  readonly start: number
  /** Last byte, inclusive; `start - 1` for an empty file. */
  readonly end: number
}

/** The body kinds a response can carry. */
export type BodyValue =
  | string
  | Uint8Array
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | FileBody
  | Response
  | null

const SHORT_TYPES: Record<string, string> = {
  html: 'text/html', json: 'application/json', text: 'text/plain', xml: 'application/xml',
  js: 'text/javascript', css: 'text/css', csv: 'text/csv', form: 'application/x-www-form-urlencoded',
}

export const HTML = 'text/html; charset=utf-8'
export const TEXT = 'text/plain; charset=utf-8'
export const JSON_TYPE = 'application/json'
export const OCTETS = 'application/octet-stream'

/**
 * The request context handed to middleware and handlers as `c`: the request (`c.req`), the
 * route parameters (`c.params`), and the response being built (`c.status()`, `c.header()`,
 * `c.json()` …), which the server writes once the handler is done.
 */
export class Context<P = Record<string, unknown>> {
  readonly req: CarafeRequest
  /** Route parameters, converted by their converters (`<int:id>` gives a number). */
  params: P
  /**
   * The path the current app routes on, decoded (`/subpage/나의 비밀 방`): the request's
   * canonical path, without the mount prefix inside a mounted app. `c.req.path` is the
   * whole path as sent (percent-encoded), whatever app is answering. A `%2F` decodes to
   * `/` here, so decide on {@link pathSegments}, not on this text, when that matters.
   */
  path: string
  /** Index of the first canonical segment the current app sees (0 unless mounted). */
  #segStart = 0
  readonly #app: AppServices
  #status = 200
  #type: string | null = null
  #headers: Record<string, HeaderValue> | null = null
  /**
   * A whole header set prebuilt and checked once (the static engine's per-file headers,
   * `content-type` included), kept as a list until something reads or changes a header;
   * the Node door then writes it as is, instead of copying it header by header.
   */
  #prebuilt: readonly string[] | null = null
  #body: BodyValue = null
  #vars: Record<string, unknown> | null = null
  #batteries: Batteries | null = null
  #flashes: FlashMessage[] | null = null
  #log: Log | null = null

  constructor(app: AppServices, req: CarafeRequest, params: P) {
    this.#app = app
    this.req = req
    this.path = req.canonical.text
    this.params = params
  }

  /**
   * The decoded segments of {@link path} (`/a/b/` gives `['a', 'b', '']`, `/` gives
   * `['']`), from `from` on. A segment may hold a `/` that was sent as `%2F`: it is one
   * segment, never two. Guards, the router, the static engine and mounts decide on these.
   */
  pathSegments(from = 0): readonly string[] {
    const all = segmentsOf(this.req.canonical)
    const start = this.#segStart + from
    if (start === 0) return all
    const out = all.slice(start)
    return out.length === 0 && from === 0 ? [''] : out
  }

  /** The decoded mount prefix in front of {@link path} (`/admin` inside `app.mount('/admin', …)`), `''` at the top. */
  get basePath(): string {
    if (this.#segStart === 0) return ''
    return '/' + segmentsOf(this.req.canonical).slice(0, this.#segStart).join('/')
  }

  /** True when the current path starts with the whole segments `prefix` (`['admin']` matches `/admin`, `/admin/`, `/admin/x`, not `/administrator`). */
  hasPathPrefix(prefix: readonly string[]): boolean {
    const n = prefix.length
    if (n === 0) return true
    const segs = segmentsOf(this.req.canonical)
    const start = this.#segStart
    if (segs.length - start < n) return false
    for (let i = 0; i < n; i++) if (segs[start + i] !== prefix[i]) return false
    return true
  }

  /**
   * Move the routed view `count` segments further (entering a mounted app); returns the
   * previous start, for {@link leaveMount}. Internal: `app.mount()` uses it.
   * @internal
   */
  enterMount(count: number): number {
    const prev = this.#segStart
    this.#view(Math.min(prev + count, segmentsOf(this.req.canonical).length))
    return prev
  }

  /** Undo {@link enterMount}. @internal */
  leaveMount(start: number): void {
    this.#view(start)
  }

  #view(start: number): void {
    this.#segStart = start
    const rest = segmentsOf(this.req.canonical).slice(start)
    this.path = rest.length === 0 ? '/' : '/' + rest.join('/')
  }

  /** Index of the first segment of the current view (for the dispatcher). @internal */
  get segmentStart(): number {
    return this.#segStart
  }

  /** The request's id (see {@link CarafeRequest.requestId}): a trusted proxy's `X-Request-Id`, else one made on first read. */
  get requestId(): string {
    return this.req.requestId
  }

  /**
   * This request's logger: JSON lines with the request id, method and path, through the
   * app's `logger` (stderr by default). Made on first use.
   *
   * @example
   * c.log.info('order paid', { orderId: order.id })
   */
  get log(): Log {
    return (this.#log ??= (this.#app.log ?? defaultLogger()).forRequest(this.req))
  }

  /** Upper-case request method. */
  get method(): string {
    return this.req.method
  }

  /** First value of a query parameter (`?thing=…`), or `undefined`. */
  query(name: string): string | undefined {
    return this.req.query(name)
  }

  /** Every value of a repeated query parameter. */
  queries(name: string): string[] {
    return this.req.queries(name)
  }

  /** A request header (case-insensitive). */
  headerIn(name: string): string | undefined {
    return this.req.header(name)
  }

  /** A request cookie. */
  cookie(name: string): string | undefined {
    return this.req.cookie(name)
  }

  /** A signed request cookie, verified against the app's secrets; `undefined` when missing, unsigned or tampered. */
  signedCookie(name: string): string | undefined {
    return unsignValue(name, this.req.cookie(name), this.#app.keys('cookie'))
  }

  /**
   * Content negotiation: the best of `types` for the request's `Accept` (short names like
   * `html`, `json`, `text` or full types), or `undefined` when none is acceptable.
   *
   * @example
   * c.accepts('html', 'json') === 'json' ? c.json(data) : c.render('page.html', data)
   */
  accepts<T extends string>(...types: T[]): T | undefined {
    const full = types.map((t) => SHORT_TYPES[t] ?? t)
    const Negotiator = lazyRequire<typeof import('negotiator')>('negotiator')
    const best = new Negotiator({ headers: { accept: this.req.header('accept') ?? '*/*' } }).mediaType(full)
    return best === undefined ? undefined : types[full.indexOf(best)]
  }

  // ---- validation --------------------------------------------------------------------

  /**
   * Validate part of the request with any Standard Schema (zod, valibot, arktype) and get
   * the typed, parsed value; a failure throws a 400 {@link ValidationError} that lists each
   * field and why. `json` requires a JSON content type; `form` a form one.
   *
   * @example
   * const { name, age } = await c.valid('json', z.object({ name: z.string(), age: z.number() }))
   */
  valid<S extends StandardSchemaV1>(target: ValidationTarget, schema: S): Promise<StandardSchemaV1.InferOutput<S>> {
    return this.#input(target).then((input) => settleSchema(schema, input, (result) => {
      if ('issues' in result) throw new ValidationError(target, result.issues)
      return result.value
    }))
  }

  /**
   * Like {@link Context.valid}, but returns the outcome instead of throwing, with the errors
   * grouped by field: the shape a form template needs to show them next to each input.
   */
  validate<S extends StandardSchemaV1>(target: ValidationTarget, schema: S): Promise<Validated<StandardSchemaV1.InferOutput<S>>> {
    return this.#input(target).then((input) => settleSchema(schema, input, (result): Validated<StandardSchemaV1.InferOutput<S>> => {
      if ('issues' in result) return { success: false, data: null, errors: errorsByField(result.issues), issues: result.issues }
      return { success: true, data: result.value, errors: null }
    }))
  }

  #input(target: ValidationTarget): Promise<unknown> {
    switch (target) {
      case 'json': {
        const type = this.req.contentType
        if (type !== 'application/json' && !type.endsWith('+json')) {
          return Promise.reject(new HttpError(400, `expected a JSON body (Content-Type: application/json), but the request's Content-Type is ${type === '' ? 'missing' : type}`, { code: 'ERR_NOT_JSON' }))
        }
        return this.req.json()
      }
      case 'form':
        return this.req.form().then((form) => form.toObject())
      case 'query':
        return Promise.resolve(this.req.queryObject())
      case 'params':
        return Promise.resolve({ ...(this.params as object) })
      case 'headers':
        return Promise.resolve(Object.fromEntries(this.req.headers()))
      case 'cookies':
        return import('../util/cookie.js').then(({ parseCookieHeader }) => Object.fromEntries(parseCookieHeader(this.req.header('cookie'))))
    }
  }

  // ---- per-request state -------------------------------------------------------------

  /** Store a value for later middleware and the handler. */
  set<K extends keyof ContextVariables>(key: K, value: ContextVariables[K]): void
  set(key: string, value: unknown): void
  set(key: string, value: unknown): void {
    this.#vars ??= Object.create(null) as Record<string, unknown>
    this.#vars[key] = value
  }

  /**
   * The database of `app.use(db.middleware())` (`carafe/db`): a Kysely query builder, typed
   * by augmenting `ContextVariables` with `db: Kysely<DB>`. Throws `ERR_NO_DB` without it.
   */
  get db(): ContextVariables extends { db: infer D } ? D : unknown {
    const db = this.#vars?.db
    if (db === undefined) throw new CarafeError('ERR_NO_DB', "c.db needs the database middleware: app.use(db.middleware()) with db = database(url) from 'carafe/db'")
    return db as never
  }

  /** Read a value stored with {@link Context.set}. */
  get<K extends keyof ContextVariables>(key: K): ContextVariables[K] | undefined
  get(key: string): unknown
  get(key: string): unknown {
    return this.#vars?.[key]
  }

  // ---- batteries: session, user, flash, CSRF ---------------------------------------------

  /**
   * Attach a battery's per-request part (what `session()`, `auth()` and `csrf()` do on each
   * request). @internal
   */
  provide<K extends keyof Batteries>(kind: K, value: Batteries[K]): void {
    this.#batteries ??= {}
    this.#batteries[kind] = value
  }

  /** A battery's part when it is installed for this request. @internal */
  battery<K extends keyof Batteries>(kind: K): Batteries[K] | undefined {
    return this.#batteries?.[kind]
  }

  /**
   * The session (`app.use(session())` from `carafe/session`): `c.session.get('cart')`,
   * `c.session.set('cart', [1, 2])`. Throws `ERR_NO_SESSION` when no session middleware runs
   * for this request.
   */
  get session(): Session {
    const s = this.#batteries?.session
    if (s === undefined) throw new CarafeError('ERR_NO_SESSION', 'c.session needs the session middleware: app.use(session()) with session from \'carafe/session\'')
    return s
  }

  /** The logged-in user (`app.use(auth({ loadUser }))` from `carafe/auth`), or `null`. Throws `ERR_NO_AUTH` without `auth()`. */
  get user(): CurrentUser | null {
    return this.#auth('c.user').user
  }

  /**
   * How {@link user} was authenticated (`'session'`, `'remember'`, `'token'`, `'basic'`), or
   * `null` for a visitor. An API that must not act on a browser's ambient cookie checks
   * `c.authMethod === 'token'`.
   */
  get authMethod(): AuthMethod | null {
    return this.#auth('c.authMethod').via
  }

  /** Log `user` in: a new session id (against fixation) that holds the user's id. */
  login(user: CurrentUser, options?: LoginOptions): Promise<void> {
    return this.#auth('c.login()').login(user, options)
  }

  /** Log out: the session ends on the server (a replayed cookie is not logged in) and the remember-me token is revoked. */
  logout(): Promise<void> {
    const auth = this.#auth('c.logout()')
    const session = this.#batteries?.session?.id ?? null
    // The WebSockets this session opened close too (1008): a logged-out browser keeps no live channel.
    return auth.logout().then(() => this.#app.loggedOut?.(session, userKey(auth.user), false))
  }

  /** End every other session of the logged-in user (after a password change); this one stays, with a new id. */
  logoutOthers(): Promise<void> {
    const auth = this.#auth('c.logoutOthers()')
    const session = this.#batteries?.session?.id ?? null
    const user = userKey(auth.user)
    return auth.logoutOthers().then(() => this.#app.loggedOut?.(session, user, true))
  }

  #auth(what: string): AuthHandle {
    const a = this.#batteries?.auth
    if (a === undefined) throw new CarafeError('ERR_NO_AUTH', `${what} needs the auth middleware: app.use(auth({ loadUser })) with auth from 'carafe/auth'`)
    return a
  }

  /**
   * A CSRF token for a form or a `X-CSRF-Token` header (`{{ csrf_field() }}` in templates):
   * bound to the session, masked anew each call. Throws `ERR_NO_CSRF` without `csrf()`.
   */
  csrfToken(): string {
    const t = this.#batteries?.csrf
    if (t === undefined) throw new CarafeError('ERR_NO_CSRF', "c.csrfToken() needs the CSRF middleware: app.use(csrf()) with csrf from 'carafe/auth'")
    return t.token()
  }

  /**
   * Flash a message for the next page that shows them (Flask's `flash()`); kept in the
   * session until read.
   *
   * @example
   * c.flash('Welcome back!'); c.flash('Wrong password', 'error')
   */
  flash(message: string, category = 'message'): void {
    const list = (this.session.get(FLASH_KEY) as FlashMessage[] | undefined) ?? []
    this.session.set(FLASH_KEY, [...list, { message: String(message), category: String(category) }] as unknown as SessionValue)
  }

  /**
   * The flashed messages, oldest first, and forget them (Flask's `get_flashed_messages()`);
   * `category` keeps only those. A request that does not call this (an asset, an XHR)
   * leaves them for the next. Calls within one request return the same list.
   */
  flashes(category?: string | readonly string[]): FlashMessage[] {
    if (this.#flashes === null) {
      const s = this.#batteries?.session
      const list = s?.get(FLASH_KEY) as FlashMessage[] | undefined
      this.#flashes = Array.isArray(list) ? list : []
      if (list !== undefined) s!.delete(FLASH_KEY)
    }
    if (category === undefined) return this.#flashes
    const wanted = typeof category === 'string' ? [category] : category
    return this.#flashes.filter((f) => wanted.includes(f.category))
  }

  /**
   * Where to go after login: `candidate` (by default the `next` query parameter) when it is
   * a path on this site, else `fallback`. Refuses anything a browser could read as another
   * site: `//evil`, `/\evil`, `https:…`, `javascript:…`, control characters.
   *
   * @example
   * return c.redirect(c.safeNext('/'))
   */
  safeNext(fallback = '/', candidate: string | undefined = this.req.query('next')): string {
    return isSafeNext(candidate) ? candidate : fallback
  }

  // ---- building the response ---------------------------------------------------------

  /** The response status so far. */
  get statusCode(): number {
    return this.#status
  }

  /** The response body so far (`null` when none was set). */
  get responseBody(): BodyValue {
    return this.#body
  }

  /** The response `Content-Type` so far, or `null`. */
  get contentType(): string | null {
    if (this.#prebuilt !== null) this.#unpack()
    return this.#type
  }

  /** Response headers set so far, other than `content-type` (lower-case names), or `null` when none. */
  get responseHeaders(): Readonly<Record<string, HeaderValue>> | null {
    if (this.#prebuilt !== null) this.#unpack()
    return this.#headers
  }

  /**
   * Set a whole prebuilt header list at once (flat name/value pairs, lower-case names,
   * `content-type` included), checked (by Carafe's internal `checkHeaderList()`) when it was built. On a
   * response with no header set yet it is kept as is; otherwise its headers are added one
   * by one.
   */
  setHeaderList(list: readonly string[]): this {
    if (this.#prebuilt === null && this.#headers === null && this.#type === null) {
      this.#prebuilt = list
      return this
    }
    for (let i = 0; i < list.length; i += 2) this.header(list[i]!, list[i + 1]!)
    return this
  }

  /** The prebuilt list of {@link setHeaderList} while it is still the whole header set (for the doors), else `null`. */
  get headerList(): readonly string[] | null {
    return this.#prebuilt
  }

  #unpack(): void {
    const list = this.#prebuilt!
    this.#prebuilt = null
    const h = Object.create(null) as Record<string, HeaderValue>
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === 'content-type') this.#type = list[i + 1]!
      else h[list[i]!] = list[i + 1]!
    }
    this.#headers = h
  }

  /** Set the response status. */
  status(code: number): this {
    if (!Number.isInteger(code) || code < 100 || code > 999) throw new TypeError(`invalid HTTP status ${code}`)
    this.#status = code
    return this
  }

  /**
   * Set (or with `append`, add) a response header. A value with CR or LF is refused, so a
   * header can never be split into two (response splitting), and so is any character a
   * header cannot carry (controls, and anything past U+00FF: RFC 9110 §5.5), here where it
   * is set, so the error takes the normal path (500, `onError`) instead of failing the
   * response half-written.
   */
  header(name: string, value: string | number, options?: { append?: boolean }): this {
    if (this.#prebuilt !== null) this.#unpack()
    const key = name.toLowerCase()
    const text = String(value)
    checkHeader(name, key, text)
    if (key === 'content-type') {
      this.#type = text
      return this
    }
    this.#headers ??= Object.create(null) as Record<string, HeaderValue>
    const old = this.#headers[key]
    if (options?.append === true && old !== undefined) this.#headers[key] = Array.isArray(old) ? [...old, text] : [old, text]
    else this.#headers[key] = text
    return this
  }

  /** Read a response header set so far (case-insensitive). */
  getHeader(name: string): HeaderValue | undefined {
    if (this.#prebuilt !== null) this.#unpack()
    const key = name.toLowerCase()
    return key === 'content-type' ? this.#type ?? undefined : this.#headers?.[key]
  }

  /** Remove a response header. */
  removeHeader(name: string): this {
    if (this.#prebuilt !== null) this.#unpack()
    const key = name.toLowerCase()
    if (key === 'content-type') this.#type = null
    else if (this.#headers !== null) delete this.#headers[key]
    return this
  }

  /**
   * Set a cookie with secure defaults: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` on
   * HTTPS. With `signed: true` the value is signed with the app's newest `'cookie'` key
   * (`ERR_NO_SECRET` when the app has no secret).
   *
   * @example
   * c.setCookie('theme', 'dark', { maxAge: 60 * 60 * 24 * 365 })
   */
  setCookie(name: string, value: string, options: CookieOptions = {}): this {
    let text = value
    if (options.signed === true) {
      text = signValue(name, value, this.#app.key('cookie'))
    }
    return this.header('set-cookie', serializeCookie(name, text, options, this.req.protocol === 'https'), { append: true })
  }

  /** Delete a cookie (the same `path` and `domain` it was set with). */
  deleteCookie(name: string, options: Pick<CookieOptions, 'path' | 'domain'> = {}): this {
    return this.setCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) })
  }

  /** Set the body (and, when given, the status and `Content-Type`). */
  body(body: BodyValue, status?: number, type?: string): this {
    this.#body = body
    if (status !== undefined) this.status(status)
    if (type !== undefined) {
      if (this.#prebuilt !== null) this.#unpack()
      this.#type = type
    }
    return this
  }

  /** Respond with JSON. */
  json(value: unknown, status?: number): this {
    const text = JSON.stringify(value)
    return this.body(text === undefined ? 'null' : text, status, JSON_TYPE)
  }

  /** Respond with plain text. */
  text(text: string, status?: number): this {
    return this.body(text, status, TEXT)
  }

  /** Respond with HTML. */
  html(html: string, status?: number): this {
    return this.body(html, status, HTML)
  }

  /**
   * Redirect (302 by default). The location is percent-encoded where it has characters a
   * header cannot carry, so user input in a redirect can never inject a header.
   */
  redirect(location: string, status = 302): this {
    const safe = encodeLocation(location)
    this.header('location', safe)
    return this.html(`<!doctype html>\n<title>Redirecting</title>\n<p>Redirecting to <a href="${escapeHtml(safe)}">${escapeHtml(safe)}</a>.</p>\n`, status)
  }

  /**
   * Answer with a stream of server-sent events (`text/event-stream`, never cached, never
   * buffered by nginx, never compressed). The stream ends when `run` settles, unless it
   * subscribed to topics; it closes as soon as the client leaves.
   *
   * @example
   * app.get('/clock', (c) => c.sse(async (stream) => {
   *   while (await stream.send({ event: 'tick', data: { now: Date.now() } })) await sleep(1000, undefined, { signal: stream.signal })
   * }))
   */
  sse(run: (stream: SseStream) => unknown, options?: SseOptions): this {
    const app = this.#app
    const body = createSseBody(run, this.req.header('last-event-id'), app.pubsub === undefined ? undefined : () => app.pubsub!, options)
    this.header('cache-control', 'no-cache')
    this.header('x-accel-buffering', 'no')
    return this.body(body, 200, 'text/event-stream; charset=utf-8')
  }

  /** Stop with an HTTP error: `c.abort(403)` or `c.abort(404, 'no such user')`. */
  abort(status: number, message?: string): never {
    throw new HttpError(status, message)
  }

  /** Render a template from the app's template folder with `data`, as HTML. */
  async render(name: string, data: Record<string, unknown> = {}, status?: number): Promise<this> {
    const html = await this.#app.render(name, data, this)
    return this.html(html, status)
  }

  /** Build the URL of a named route (`c.url('user', { id: 3 })`). */
  url(name: string, params: Record<string, unknown> = {}, query?: Record<string, string | number>): string {
    return this.#app.url(name, params, query)
  }

  /** The app answering (what a battery needs of it: keys, root, render, url). */
  get app(): AppServices {
    return this.#app
  }

  /** The app's root folder: relative paths (static roots, templates) resolve against it. */
  get root(): string {
    return this.#app.root
  }

  /** True when the app runs in debug mode. */
  get debug(): boolean {
    return this.#app.debug
  }

  /** Forget any response set so far (used before an error response replaces it). */
  resetResponse(): void {
    this.#status = 200
    this.#type = null
    this.#headers = null
    this.#prebuilt = null
    this.#body = null
  }
}

let fallbackLogger: AppLogger | null = null

/** The logger of a context whose app has none (a bare services object in tests). */
/** How the WebSocket registry keys a user: its `id` when it has one (each request loads its own object). */
function userKey(user: unknown): unknown {
  if (user === null || user === undefined) return null
  const id = (user as { id?: unknown }).id
  return id === undefined ? user : id
}

function defaultLogger(): AppLogger {
  return (fallbackLogger ??= new AppLogger(undefined))
}

/** Where `c.flash()` keeps its messages in the session. */
export const FLASH_KEY = '$flashes'

/**
 * A same-origin relative path: one leading `/`, then no `/` or `\` (which browsers read as
 * `/`) right after it, and no control characters or backslashes anywhere (browsers strip
 * tabs and newlines, so `/\t/evil` would become `//evil`).
 */
export function isSafeNext(candidate: string | undefined): candidate is string {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 2048) return false
  if (candidate.charCodeAt(0) !== 0x2f) return false
  const second = candidate.charCodeAt(1)
  if (second === 0x2f || second === 0x5c) return false
  return !/[\\\x00-\x1f\x7f]/.test(candidate)
}

/**
 * The one rule for response header fields, wherever they are set: a token name, and a
 * value that cannot end the header line (response splitting).
 */
function checkHeader(name: string, key: string, text: string): void {
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) {
    throw new TypeError(`refusing header ${JSON.stringify(name)}: a header name must be a token (letters, digits and !#$%&'*+.^_\`|~-)`)
  }
  const bad = /[^\t\x20-\x7e\x80-\xff]/.exec(text)
  if (bad !== null) {
    const code = `U+${text.codePointAt(bad.index)!.toString(16).toUpperCase().padStart(4, '0')}`
    throw new TypeError(`refusing header ${JSON.stringify(name)}: its value contains ${code}, but header values may hold only visible ASCII, spaces, tabs and Latin-1 (up to U+00FF) and no CR, LF or NUL; percent-encode other text (encodeURIComponent), e.g. filename*=UTF-8''… in Content-Disposition (RFC 8187)`)
  }
}

/** Check a flat name/value list for {@link Context.setHeaderList} once, when it is built (same rule as `c.header()`). */
export function checkHeaderList(list: readonly string[]): readonly string[] {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== list[i]!.toLowerCase()) throw new TypeError(`header list names must be lower-case: ${JSON.stringify(list[i])}`)
    checkHeader(list[i]!, list[i]!, list[i + 1]!)
  }
  return list
}

/**
 * Percent-encode what a `Location` header cannot carry (controls, spaces, non-ASCII, and
 * `\`, which browsers read as `/` and so could turn `/\evil.example` into another host),
 * leaving existing `%XX` escapes alone.
 */
export function encodeLocation(location: string): string {
  return location.replace(/%(?![0-9A-Fa-f]{2})|[^\x21-\x7e]|[\\"<>^`{|}]/gu, (ch) => encodeURIComponent(ch))
}
