import path from 'node:path'
import { Context, type ContextVariables } from './context.js'
import { compose, type Middleware, type Next } from './compose.js'
import { CarafeError, HttpError } from './errors.js'
import { Dispatcher, type ErrorHandler } from './dispatch.js'
import { formatRoute, type Handler, type Route, type RouteOptions } from './route.js'
import { applyResult } from './result.js'
import type { AppServices } from './services.js'
import { Keyring, resolveSecrets } from '../session/secrets.js'
import { BUILTIN_CONVERTERS, type ConverterFactory } from '../router/converters.js'
import { compilePattern } from '../router/pattern.js'
import { RouteTree } from '../router/tree.js'
import type { ParamsOf } from '../router/params.js'
import type { TemplateEngine } from '../templates/engine.js'
import type { CarafeRequest, RequestSettings } from './request.js'
import type { UploadLimits } from '../forms/multipart.js'
import type { ValidationIssue } from '../forms/validate.js'
import { createFetchHandler, type FetchInfo } from '../server/fetch.js'
import type { ListenOptions, RunOptions, CarafeServer } from '../server/serve.js'
import { RUN_APPS } from '../server/run-state.js'
import { addStaticFolder, addStaticRoutes, sendStaticFile, staticUrl, type StaticFolderOptions } from '../static/app-static.js'
import type { LazyEngine } from '../static/lazy-engine.js'
import type { StaticOptions } from '../static/options.js'
import { encodeSegment, isOpaqueSegment, prefixSegments } from '../router/canonical.js'
import { compileTrust, type TrustProxy } from '../util/proxy.js'
import { AppLogger, type LoggerOptions } from './logger.js'
import { RealtimeHub } from '../realtime/hub.js'
import { resolveRealtime, type WebSocketOptions, type WebSocketRouteOptions } from '../realtime/options.js'
import type { PubSub } from '../realtime/pubsub.js'
import { processPubSub } from '../realtime/transports.js'
import { sessionHash } from '../realtime/hub.js'
import { acceptUpgrade, WS_METHOD, type WebSocketHandlers } from '../realtime/route.js'

/** Options for `new Carafe()`. */
export interface CarafeOptions {
  /** Debug mode: an HTML error page with the stack and source for loopback clients, templates re-read on each render. @default false, or true when CARAFE_DEBUG=1 */
  debug?: boolean
  /** Folder that relative paths (templates, static roots) resolve against. @default the folder of the script that was run (`carafe run app.ts` gives the folder of app.ts), else the working directory */
  root?: string
  /** Template folder, a custom engine, or `false`. @default 'templates' */
  templates?: string | TemplateEngine | false
  /** Extra URL converters, usable as `<name:var>` in patterns. @default {} */
  converters?: Record<string, ConverterFactory>
  /** Largest request body `c.req.json()/text()/bytes()` read, in bytes (413 past it). @default 1048576 */
  bodyLimit?: number
  /** Flask's rule: a route declared `/a/` answers `/a` with a 308 to `/a/`. @default true */
  redirectSlashes?: boolean
  /** Limits for multipart uploads (`c.req.form()`). @default see {@link UploadLimits} */
  uploads?: UploadLimits
  /**
   * Secrets, newest first: keys derived from the first sign, from all verify (rotate by
   * prepending). Each must be at least 32 bytes (`npx carafe secret` makes one); an empty or
   * shorter one is refused with `ERR_WEAK_SECRET`.
   * @default CARAFE_SECRET, else (under `carafe run` only) the development secret in `.carafe/secret`, else none
   */
  secrets?: string | string[]
  /**
   * Which proxies in front of the app to believe about the client's address, scheme and
   * host (`c.req.ip`, `c.req.protocol`, `c.req.host`): `false` (none), `true` (the one that
   * connects to us), a hop count, or addresses and CIDR ranges (`['10.0.0.0/8', 'loopback']`).
   * Headers from anyone else are ignored, so clients cannot spoof them.
   * @default `CARAFE_TRUST_PROXY` (what `carafe start --trust-proxy` sets), else false
   */
  trustProxy?: TrustProxy
  /** The headers trusted proxies set: `X-Forwarded-For/-Proto/-Host` or RFC 7239 `Forwarded`. @default 'x-forwarded' */
  proxyHeaders?: 'x-forwarded' | 'forwarded'
  /**
   * Host names this app answers (Django's `ALLOWED_HOSTS`): `example.com`, `.example.com`
   * (it and its subdomains), `*` (any); ports are ignored. Other `Host` values get 400, which
   * stops DNS-rebinding and host-header attacks on code that builds URLs from the host.
   * @default any host
   */
  allowedHosts?: readonly string[]
  /**
   * Other origins allowed to send state-changing requests (CSRF) and to open WebSockets,
   * besides the request's own: `['https://admin.example.com']`. @default []
   */
  trustedOrigins?: readonly string[]
  /**
   * Shape the body of every validation failure: `c.valid()`'s 400 and a CRUD resource's 422
   * (JSON). Gets the issues (`[{ path, message }]`) and the status; returns what a handler
   * would (an object becomes JSON). Conduit's shape:
   * `(c, issues) => ({ errors: Object.fromEntries(issues.map((i) => [i.path, [i.message]])) })`.
   * @default `{ error, status, message, issues }` (JSON), or an HTML or text page with the list
   */
  validationError?: (c: Context, issues: ValidationIssue[], status: number) => unknown
  /** Flask's `static_folder` and `static_url_path`: serve `dir` under `prefix` (`''` for the top), with the static engine's options. @default none */
  static?: StaticFolderOptions
  /**
   * The app's logger (`app.log`, `c.log`): level and sink of its JSON lines. Giving it also
   * sends the errors of 500 answers through it, as JSON lines with the request id (without
   * it they are printed to stderr as they are, stack and all).
   * @default level from CARAFE_LOG_LEVEL, else 'info'; lines on stderr
   */
  logger?: LoggerOptions
  /**
   * Echo `c.requestId` in this response header (`'x-request-id'`), which is then also the
   * header a trusted proxy's id is read from. Off by default, as in Fastify: echoing makes
   * an id for every request, which costs a little on every answer.
   * @default false (the id is read from `X-Request-Id`, through trusted proxies only, and not echoed)
   */
  requestIdHeader?: string | false
  /**
   * Make the id of a request that came without a usable one (called at most once a request,
   * when something reads `c.requestId`). @default a random per-process prefix and a counter
   */
  genRequestId?: (req: CarafeRequest) => string
  /** WebSocket limits (message size, connections, send buffer, heartbeat): see {@link WebSocketOptions}. @default every limit on */
  websocket?: WebSocketOptions
  /**
   * The transport of `app.publish()` and of sockets' and event streams' `subscribe()`. Give
   * one that reaches other workers or instances (Redis) to publish across them.
   * @default `processPubSub()`: this process, and every worker of the same `carafe start` (through its supervisor)
   */
  pubsub?: PubSub
}

/**
 * A route method on the app: `app.get('/users/<int:id>', (c) => …)`, with route options
 * after the handler, or with middleware for this route only in front of it
 * (`app.get('/admin', requireRole('admin'), (c) => …)`): the last function is the handler.
 */
export interface RouteMethod<Self> {
  <P extends string>(pattern: P, handler: Handler<ParamsOf<P>>, options?: RouteOptions): Self
  <P extends string>(pattern: P, ...chain: [...RouteMiddleware<ParamsOf<P>>[], Handler<ParamsOf<P>>]): Self
}

/**
 * `app.ws(pattern, handlers, options?)`, or with middleware for this route in front of the
 * handlers (`app.ws('/chat', requireLogin(), { message(ws, data) {…} })`).
 */
export interface WebSocketMethod<Self> {
  <P extends string, D = Record<string, unknown>>(pattern: P, handlers: WebSocketHandlers<ParamsOf<P>, D>, options?: WebSocketRouteOptions): Self
  <P extends string, D = Record<string, unknown>>(pattern: P, ...chain: [...RouteMiddleware<ParamsOf<P>>[], WebSocketHandlers<ParamsOf<P>, D>]): Self
}

/** Middleware for one route (`app.get(pattern, mw, handler)`): it sees the route's typed params. */
export type RouteMiddleware<P = Record<string, unknown>> = (c: Context<P>, next: Next) => unknown

/**
 * What `app.use()` takes besides a function: middleware with a life cycle, such as a session
 * store or a pool that opens before the server listens and closes once it has drained.
 *
 * @example
 * app.use({ name: 'pool', middleware: (c, next) => { c.set('db', pool); return next() }, startup: () => pool.open(), shutdown: () => pool.close() })
 */
export interface Plugin {
  /** A name for `app.plugin(name)` (how batteries find each other, e.g. `'session'`). */
  readonly name?: string
  /** Run on every request (under the prefix of `app.use(prefix, plugin)`). */
  readonly middleware?: Middleware
  /** Run before the server listens, with the app (in each worker under `carafe start`). */
  startup?(app: Carafe): unknown
  /** Run once per start, before any worker serves (migrations): see {@link Carafe.onPrimary}. */
  primary?(app: Carafe): unknown
  /** Run when the server shuts down, after in-flight requests finish. */
  shutdown?(app: Carafe): unknown
  /**
   * Turn an error of this plugin's library into the HTTP error it stands for (a database's
   * "no row" into a 404, "unique violation" into a 409, "connection refused" into a 503), or
   * return `undefined` to leave it alone. Applied before `onError` sees the error.
   */
  mapError?(error: unknown): HttpError | undefined
  /**
   * Run once, when `app.use()` adds the plugin: add its routes (as `health()` adds
   * `/healthz`), under `prefix` (`''`, or the prefix of `app.use(prefix, plugin)`).
   */
  install?(app: Carafe, prefix: string): void
}

/** Anything with a Fetch `fetch(request)`: another Carafe app, a Hono app, a plain function. */
export type FetchHandler = ((request: Request) => Response | Promise<Response>) | { fetch(request: Request): Response | Promise<Response> }

/** Route methods of `app.route(pattern, { methods }, handler)`. */
export interface MultiRouteOptions extends RouteOptions {
  /** Methods this route answers. @default ['GET'] */
  methods?: string[]
}

/** One row of `app.routes()`, as `carafe routes` prints it. */
export interface RouteInfo {
  method: string
  pattern: string
  name: string | undefined
}

/**
 * A Carafe application: routes, middleware and error handlers, served by `app.listen()` /
 * `app.run()` on Node or by `app.fetch(request)` anywhere the Fetch standard runs.
 *
 * @example
 * const app = new Carafe()
 * app.get('/hello/<name>', (c) => `Hello, ${c.params.name}!`)
 * app.run({ port: 8000 })
 */
export class Carafe implements AppServices {
  readonly debug: boolean
  readonly root: string
  readonly bodyLimit: number
  /** Settings shared by every request of this app. */
  readonly requestSettings: RequestSettings
  /** The app's secrets, newest first (use {@link Carafe.key} rather than these). */
  readonly secrets: readonly string[]
  readonly #keyring: Keyring
  readonly #options: CarafeOptions
  readonly #converters: Record<string, ConverterFactory>
  readonly #tree = new RouteTree<Route>()
  readonly #routes: Route[] = []
  readonly #named = new Map<string, Route>()
  readonly #middleware: Middleware[] = []
  readonly #mounted: Array<{ prefix: string; app: Carafe }> = []
  readonly #startup: Array<() => unknown> = []
  readonly #primary: Array<() => unknown> = []
  readonly #shutdown: Array<() => unknown> = []
  #engine: TemplateEngine | Promise<TemplateEngine> | null = null
  #dispatcher: Dispatcher | null = null
  #onError: ErrorHandler | undefined
  #notFound: Handler | undefined
  #fetch: ((request: Request, info?: FetchInfo) => Promise<Response>) | null = null
  readonly #allowedHost: ((hostname: string) => boolean) | null
  /** The app's logger: JSON lines at the `logger` option's level (`CARAFE_LOG_LEVEL`), on stderr by default. */
  readonly log: AppLogger
  #started = false
  #draining = false

  constructor(options: CarafeOptions = {}) {
    this.#options = options
    this.debug = options.debug ?? process.env.CARAFE_DEBUG === '1'
    this.root = path.resolve(options.root ?? defaultRoot())
    this.bodyLimit = options.bodyLimit ?? 1024 * 1024
    this.requestSettings = {
      bodyLimit: this.bodyLimit,
      uploads: options.uploads ?? {},
      trust: compileTrust(options.trustProxy ?? trustFromEnv(process.env.CARAFE_TRUST_PROXY)),
      proxyHeaders: options.proxyHeaders ?? 'x-forwarded',
      trustedOrigins: (options.trustedOrigins ?? []).map(toOrigin),
      requestIdHeader: requestIdHeaderOf(options.requestIdHeader),
      genRequestId: options.genRequestId,
    }
    this.log = new AppLogger(options.logger)
    this.#allowedHost = compileAllowedHosts(options.allowedHosts)
    this.secrets = resolveSecrets(options.secrets)
    this.#keyring = new Keyring(this.secrets)
    this.#converters = { ...BUILTIN_CONVERTERS, ...options.converters }
    if (options.static !== undefined) {
      const { engine, prefix } = addStaticFolder(this, options.static)
      this.#staticFolder = engine
      this.#staticPrefixes.push(prefix)
    }
  }

  // ---- keys --------------------------------------------------------------------------

  /**
   * The key to sign or encrypt with for `purpose` ('cookie', 'session', 'token', or a
   * battery's own name): 32 bytes derived with HKDF-SHA256 from the newest secret, so each
   * purpose has its own key. Throws `ERR_NO_SECRET` when the app has no secret. The buffer
   * is shared: do not modify it.
   *
   * @example
   * createHmac('sha256', app.key('token')).update(payload).digest('base64url')
   */
  key(purpose: string): Buffer {
    return this.#keyring.key(purpose)
  }

  /** Every key for `purpose`, newest first, one per secret: verify against all of them. `[]` with no secret. */
  keys(purpose: string): readonly Buffer[] {
    return this.#keyring.keys(purpose)
  }

  // ---- routes ------------------------------------------------------------------------

  readonly get: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('GET', pattern, rest)
  readonly post: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('POST', pattern, rest)
  readonly put: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('PUT', pattern, rest)
  readonly patch: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('PATCH', pattern, rest)
  readonly delete: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('DELETE', pattern, rest)
  readonly options: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('OPTIONS', pattern, rest)
  readonly head: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('HEAD', pattern, rest)
  /** A route for every method. */
  readonly all: RouteMethod<this> = (pattern: string, ...rest: RouteArgs) => this.#addArgs('*', pattern, rest)

  /**
   * A WebSocket route: the upgrade request goes through the router and the middleware as a
   * GET would (session, auth and guards run first; their 401 or redirect is the answer),
   * then `open`, `message` and `close` get the socket and that request's context.
   *
   * @example
   * app.ws('/chat/<room>', requireLogin(), {
   *   open(ws, c) { ws.subscribe(c.params.room) },
   *   message(ws, data, c) { app.publish(c.params.room, { from: c.user, text: String(data) }) },
   * })
   */
  readonly ws: WebSocketMethod<this> = (pattern: string, ...rest: unknown[]): this => {
    let options: WebSocketRouteOptions = {}
    const last = rest[rest.length - 1]
    if (rest.length >= 2 && typeof rest[rest.length - 2] === 'object' && typeof last === 'object') options = (rest.pop() ?? {}) as WebSocketRouteOptions
    const handlers = rest.pop() as WebSocketHandlers
    if (typeof handlers !== 'object' || handlers === null) throw new TypeError(`app.ws(${JSON.stringify(pattern)}): the last argument must be the handlers ({ open, message, close })`)
    for (const [i, mw] of rest.entries()) {
      if (typeof mw !== 'function') throw new TypeError(`app.ws(${JSON.stringify(pattern)}): argument ${i + 2} must be a middleware function (the handlers come last)`)
    }
    return this.#add(WS_METHOD, pattern, acceptUpgrade({ handlers, maxPayload: options.maxPayload }), { name: options.name }, false, rest as Middleware[])
  }

  // ---- real time -----------------------------------------------------------------------

  #hub: RealtimeHub | null = null
  #pubsub: PubSub | null = null

  /** The transport of {@link publish} (the `pubsub` option, else in-process). */
  get pubsub(): PubSub {
    if (this.#pubsub === null) {
      this.#pubsub = this.#options.pubsub ?? processPubSub()
      const bus = this.#pubsub
      if (bus.close !== undefined) this.#shutdown.unshift(() => bus.close!())
    }
    return this.#pubsub
  }

  /**
   * Send `message` to every WebSocket and event stream subscribed to `topic` (in this
   * process with the default transport). Strings and bytes go as they are, other values as JSON.
   *
   * @example
   * app.publish('room:1', { text: 'hello' })
   */
  publish(topic: string, message: unknown): void | Promise<void> {
    return this.pubsub.publish(topic, message)
  }

  /** The app's open sockets and their limits (made on first use). @internal */
  realtime(): RealtimeHub {
    if (this.#hub === null) {
      const hub = new RealtimeHub(resolveRealtime(this.#options.websocket, this.pubsub))
      this.#hub = hub
      // A logout answered by another worker or instance closes the sockets of that session
      // here too: the transport carries the session id's hash (never the id) and the user id.
      this.pubsub.subscribe(LOGOUT_TOPIC, (m) => {
        const msg = m as LogoutMessage
        if (typeof msg !== 'object' || msg === null || msg.from === PROCESS_ID) return
        if (msg.others) hub.closeUserRemote(msg.user, msg.session)
        else if (msg.session !== null) hub.closeSessionHash(msg.session)
      })
    }
    return this.#hub
  }

  /** `c.logout()` / `c.logoutOthers()` happened: close the sockets that session (or the user's other sessions) opened, in every process the pub/sub transport reaches. @internal */
  loggedOut(sessionId: string | null, user: unknown, others: boolean): void {
    if (this.#hub !== null) {
      if (others) this.#hub.closeUser(user, sessionId)
      else this.#hub.closeSession(sessionId)
    }
    if (!this.#hasSocketRoutes()) return
    const id = typeof user === 'string' || typeof user === 'number' ? user : null
    const message: LogoutMessage = { from: PROCESS_ID, session: sessionId === null ? null : sessionHash(sessionId), user: id, others }
    if (message.session !== null || (others && id !== null)) void this.pubsub.publish(LOGOUT_TOPIC, message)
  }

  #socketRoutes: boolean | undefined
  #hasSocketRoutes(): boolean {
    return (this.#socketRoutes ??= this.routes().some((r) => r.method === 'WS'))
  }

  /**
   * Bottle/Flask-style registration: GET by default, or the listed methods; middleware for
   * this route may stand in front of the handler.
   *
   * @example
   * app.route('/login', { methods: ['GET', 'POST'] }, (c) => …)
   * app.route('/admin', { methods: ['GET', 'POST'] }, requireRole('admin'), (c) => …)
   */
  route<P extends string>(pattern: P, ...chain: [...RouteMiddleware<ParamsOf<P>>[], Handler<ParamsOf<P>>]): this
  route<P extends string>(pattern: P, options: MultiRouteOptions, ...chain: [...RouteMiddleware<ParamsOf<P>>[], Handler<ParamsOf<P>>]): this
  route(pattern: string, ...rest: Array<MultiRouteOptions | RouteMiddleware<any> | Handler<any>>): this {
    const options = (typeof rest[0] === 'object' && rest[0] !== null ? rest.shift() : {}) as MultiRouteOptions
    const chain = rest as Array<Handler<any>>
    const handler = chain.pop()
    const methods = options.methods ?? ['GET']
    for (const m of methods) this.#add(m.toUpperCase() === 'ALL' ? '*' : m.toUpperCase(), pattern, handler!, options, true, chain)
    return this
  }

  /** `(handler, options?)` or `(...middleware, handler)`: the last function is the handler. */
  #addArgs(method: string, pattern: string, rest: RouteArgs): this {
    const last = rest[rest.length - 1]
    if (rest.length === 2 && typeof rest[0] === 'function' && typeof last === 'object' && last !== null) {
      return this.#add(method, pattern, rest[0] as Handler<any>, last as RouteOptions)
    }
    if (rest.length === 2 && last === undefined) return this.#add(method, pattern, rest[0] as Handler<any>)
    const chain = rest.slice(0, -1)
    for (const [i, mw] of chain.entries()) {
      if (typeof mw !== 'function') throw new TypeError(`${method} ${pattern}: argument ${i + 2} must be a middleware function (the handler comes last, route options after a lone handler)`)
    }
    return this.#add(method, pattern, last as Handler<any>, {}, true, chain as Middleware[])
  }

  #add(method: string, source: string, handler: Handler<any>, options: RouteOptions = {}, autoName = true, middleware: readonly Middleware[] = []): this {
    if (typeof handler !== 'function') throw new TypeError(`the handler for ${method} ${source} must be a function`)
    const pattern = compilePattern(source, this.#converters)
    let name = options.name
    // Flask names a route after its view function; do the same for named functions.
    const auto = autoName && name === undefined && handler.name !== '' && !/^(bound |anonymous$)/.test(handler.name)
    if (auto) name = handler.name
    if (name !== undefined) {
      const prev = this.#named.get(name)
      if (prev !== undefined && prev.pattern.source !== source) {
        if (!auto) throw new CarafeError('ERR_ROUTE_NAME', `route name "${name}" is already used by ${prev.pattern.source}; pick another name`)
        name = undefined
      }
    }
    const route: Route = { method, pattern, handler, middleware: middleware.slice(), name, bodyLimit: options.bodyLimit, run: handler, direct: true }
    this.#tree.add(pattern, route)
    this.#routes.push(route)
    if (name !== undefined && !this.#named.has(name)) this.#named.set(name, route)
    this.#dispatcher = null
    return this
  }

  /**
   * Add middleware (or a {@link Plugin}) for every request, or for paths under `prefix`.
   * Middleware wraps every route whatever the order of registration, and runs in the order
   * it was added. A plugin's `startup` and `shutdown` join the app's.
   *
   * @example
   * app.use(async (c, next) => { const t = Date.now(); await next(); c.header('x-time', Date.now() - t) })
   * app.use(session())
   */
  use(middleware: Middleware | Plugin): this
  use(prefix: string, middleware: Middleware | Plugin): this
  use(a: string | Middleware | Plugin, b?: Middleware | Plugin): this {
    const prefix = typeof a === 'string' ? a : undefined
    const item = typeof a === 'string' ? b : a
    let mw: Middleware | undefined
    if (typeof item === 'function') {
      mw = item
      const named = (item as { pluginName?: unknown }).pluginName
      if (typeof named === 'string') this.#plugins.push({ name: named, middleware: item })
    } else if (typeof item === 'object' && item !== null) {
      this.#plugins.push(item)
      mw = item.middleware
      if (item.primary !== undefined) this.#primary.push(() => item.primary!(this))
      if (item.startup !== undefined) this.#startup.push(() => item.startup!(this))
      if (item.shutdown !== undefined) this.#shutdown.push(() => item.shutdown!(this))
      item.install?.(this, prefix === undefined ? '' : prefix.replace(/\/+$/, ''))
    } else throw new TypeError('app.use() takes a middleware function or a plugin object ({ middleware, startup, shutdown })')
    if (mw === undefined) return this
    if (prefix === undefined) this.#middleware.push(mw)
    else {
      // Decided on the canonical segments, as the router decides: `/%61dmin` and
      // `//admin` are `/admin` to both, and `/admin%2fx` is neither.
      const segs = prefixSegments(prefix)
      const inner = mw
      this.#middleware.push(function prefixed(c, next) {
        return c.hasPathPrefix(segs) ? inner(c, next) : next()
      })
    }
    this.#dispatcher = null
    return this
  }

  readonly #plugins: Plugin[] = []

  /**
   * An error as the HTTP error a plugin says it stands for: this app's plugins first, then
   * those of the apps it is mounted in (their middleware, a database's say, ran on this
   * request too). Only on the error path.
   */
  #mapError(error: unknown): HttpError | undefined {
    for (const p of this.#plugins) {
      if (p.mapError === undefined) continue
      let mapped: HttpError | undefined
      try { mapped = p.mapError(error) } catch { mapped = undefined }
      if (mapped !== undefined) return mapped
    }
    const parent = this.#parent
    return parent === null ? undefined : parent.#mapError(error)
  }

  /** The app this one is mounted in (`parent.mount(prefix, this)`), whose middleware runs first. */
  #parent: Carafe | null = null

  /**
   * The plugin installed with `app.use()` under `name` (the first, outermost, if several),
   * here or in an app this one is mounted in (its middleware runs on these requests too), or
   * `undefined`. A middleware function marked with a `pluginName` (as `csrf()` is) counts too.
   */
  plugin<T extends Plugin = Plugin>(name: string): T | undefined {
    const own = this.#plugins.find((p) => p.name === name) as T | undefined
    return own ?? this.#parent?.plugin<T>(name)
  }

  /** The `after()` hooks, in registration order, so a `before()` that answers early can run the ones it skips. */
  readonly #afterHooks: Array<(c: Context) => unknown> = []

  /**
   * Run `fn` before each handler (Flask's `before_request`); returning a value answers the
   * request. As in Flask, the `after()` hooks still run on that answer.
   */
  before(fn: (c: Context) => unknown): this {
    const hooks = this.#afterHooks
    const skipped = hooks.length
    return this.use(async function before(c, next) {
      const v = await fn(c)
      if (v === undefined) return next()
      await applyResult(c, v)
      // The after() hooks added later sit inside this middleware and never see the answer:
      // run them here, innermost first, as their middleware would have.
      for (let i = hooks.length - 1; i >= skipped; i--) await hooks[i]!(c)
      return c
    })
  }

  /** Run `fn` after each handler, with the response built so far on `c` (Flask's `after_request`); also after a `before()` that answered early. */
  after(fn: (c: Context) => unknown): this {
    this.#afterHooks.push(fn)
    return this.use(async function after(c, next) {
      await next()
      await fn(c)
    })
  }

  /** Handle errors thrown by handlers and middleware; return a response for them. */
  onError(handler: ErrorHandler): this {
    this.#onError = handler
    this.#dispatcher = null
    return this
  }

  /** Answer requests that match no route. */
  notFound(handler: Handler): this {
    this.#notFound = handler
    this.#dispatcher = null
    return this
  }

  /** Run `fn` before the server starts listening (open pools, warm caches). */
  onStartup(fn: () => unknown): this {
    this.#startup.push(fn)
    return this
  }

  /**
   * Run `fn` once per start, before any worker serves: the place for migrations and other
   * one-time work. Under `carafe start` it runs once per start and once per rolling reload
   * (SIGHUP), in a short-lived process of its own that loads the code as it is then, while
   * the workers run only `onStartup`; a hook that throws stops the start (or the reload,
   * leaving the old workers serving). With one process (`carafe run`, `app.listen()`) it
   * runs just before the `onStartup` hooks.
   */
  onPrimary(fn: () => unknown): this {
    this.#primary.push(fn)
    return this
  }

  /** Run the `onPrimary` hooks (of this app and of the apps mounted in it). */
  async runPrimary(): Promise<void> {
    for (const fn of this.#primary) await fn()
    for (const { app } of this.#mounted) await app.runPrimary()
  }

  /** Run `fn` when the server shuts down, after in-flight requests finish. */
  onShutdown(fn: () => unknown): this {
    this.#shutdown.push(fn)
    return this
  }

  /**
   * Serve another Carafe app, or any Fetch handler, under `prefix`. The mounted app sees
   * paths with the prefix removed.
   *
   * @example
   * app.mount('/admin', adminApp)
   */
  mount(prefix: string, target: Carafe | FetchHandler): this {
    const p = prefix.replace(/\/+$/, '')
    if (!p.startsWith('/') && p !== '') throw new CarafeError('ERR_MOUNT_PREFIX', `mount prefix ${JSON.stringify(prefix)} must start with "/"`)
    const count = prefixSegments(p === '' ? '/' : p).length
    let handler: Handler
    if (target instanceof Carafe) {
      this.#mounted.push({ prefix: p, app: target })
      target.#parent = this
      handler = function mounted(c) {
        refuseOpaqueSegments(c, count)
        const start = c.enterMount(count)
        const params = c.params
        c.params = {}
        const done = (): void => {
          c.leaveMount(start)
          c.params = params
        }
        let out: void | Promise<void>
        try {
          out = target.dispatcher().handle(c)
        } catch (e) {
          done()
          throw e
        }
        if (out === undefined) return done()
        return out.finally(done)
      }
    } else {
      const fetchFn = typeof target === 'function' ? target : target.fetch.bind(target)
      handler = function mountedFetch(c) {
        // The mounted handler sees exactly the path that was routed: the canonical segments
        // after the prefix, re-encoded, on an origin built from the checked host.
        const rest = refuseOpaqueSegments(c, count)
        const raw = c.req.raw
        const query = c.req.rawQuery
        const url = `${c.req.origin}/${rest.map(encodeSegment).join('/')}${query === '' ? '' : `?${query}`}`
        const hasBody = raw.method !== 'GET' && raw.method !== 'HEAD'
        return fetchFn(new Request(url, { method: raw.method, headers: raw.headers, body: hasBody ? raw.body : null, duplex: 'half', signal: raw.signal } as RequestInit))
      }
    }
    for (const pattern of [p === '' ? '/' : p, `${p}/`, `${p}/<path:__rest>`]) this.#add('*', pattern, handler, {}, false)
    return this
  }

  // ---- reverse routing and templates -------------------------------------------------

  /** The URL path of a named route; extra params go to the query string (like `url_for`). */
  url(name: string, params: Record<string, unknown> = {}, query?: Record<string, string | number>): string {
    const route = this.#named.get(name)
    if (route !== undefined) return formatRoute(route, params, query)
    for (const { prefix, app } of this.#mounted) {
      if (app.#hasName(name)) return prefix + app.url(name, params, query)
    }
    throw new CarafeError('ERR_NO_ROUTE_NAME', `no route is named "${name}"; name one with app.get(pattern, handler, { name: '${name}' })`)
  }

  #hasName(name: string): boolean {
    return this.#named.has(name) || this.#mounted.some(({ app }) => app.#hasName(name))
  }

  /** Render a template to a string (what `c.render()` uses). */
  async render(name: string, data: Record<string, unknown>, c?: Context<any>): Promise<string> {
    const engine = await this.#templateEngine()
    const globals = c === undefined ? data : { ...requestGlobals(c, engine), ...data }
    return engine.render(name, globals)
  }

  readonly #templateFallbacks: string[] = []

  /**
   * Add a battery's default templates: searched after the app's `templates/` folder, so a
   * file of the same name there overrides them (`templates/crud/list.html`). Only for the
   * default engine; call it while setting the app up, before the first render.
   *
   * @example
   * app.addTemplateFallback(fileURLToPath(new URL('./templates/', import.meta.url)))
   */
  addTemplateFallback(dir: string): this {
    const abs = path.resolve(dir)
    if (!this.#templateFallbacks.includes(abs)) {
      this.#templateFallbacks.push(abs)
      if (typeof this.#options.templates !== 'object') this.#engine = null
    }
    return this
  }

  #templateEngine(): TemplateEngine | Promise<TemplateEngine> {
    if (this.#engine !== null) return this.#engine
    const t = this.#options.templates
    if (t === false) throw new CarafeError('ERR_NO_TEMPLATES', 'templates are turned off for this app (templates: false)')
    if (typeof t === 'object') return (this.#engine = t)
    const dir = path.resolve(this.root, t ?? 'templates')
    this.#engine = import('../templates/engine.js').then((m) => {
      const engine = m.createNunjucksEngine({ dir, cache: !this.debug && process.env.CARAFE_RELOAD !== '1', globals: { url: this.url.bind(this), static: this.staticUrl.bind(this) }, fallbacks: this.#templateFallbacks })
      this.#engine = engine
      return engine
    })
    return this.#engine
  }

  // ---- serving -------------------------------------------------------------------------

  /** The route table, for `carafe routes` and tests. */
  routes(): RouteInfo[] {
    return this.#routes.map((r) => ({ method: r.method === '*' ? 'ALL' : r.method, pattern: r.pattern.source, name: r.name }))
  }

  /** The dispatcher (built on first use, rebuilt after the app changes). */
  dispatcher(): Dispatcher {
    if (this.#dispatcher !== null) return this.#dispatcher
    const chain = this.#middleware.slice()
    const echo = this.#options.requestIdHeader
    if (typeof echo === 'string') chain.unshift(echoRequestId(this.requestSettings.requestIdHeader!))
    for (const r of this.#routes) {
      r.run = r.handler
      r.direct = chain.length === 0 && r.middleware.length === 0
    }
    this.#dispatcher = new Dispatcher({
      app: this,
      allowedHost: this.#allowedHost,
      tree: this.#tree,
      middleware: chain,
      onError: this.#onError,
      notFound: this.#notFound,
      redirectSlashes: this.#options.redirectSlashes ?? true,
      compose,
      mapError: (e) => this.#mapError(e),
      validationError: this.#options.validationError,
    })
    return this.#dispatcher
  }

  /** The Fetch standard entry point: `Request` in, `Response` out. */
  fetch = (request: Request, info?: FetchInfo): Promise<Response> => {
    this.#fetch ??= createFetchHandler(this)
    return this.#fetch(request, info)
  }

  /**
   * In-process test client: `await app.request('/users/1')`, or with a `RequestInit`. The
   * request comes from this process, so it carries the loopback address `127.0.0.1` (the
   * debug page shows, `c.req.remoteAddress` is set); use `app.fetch(request, info)` to
   * choose another.
   *
   * @example
   * const res = await app.request('/login', { method: 'POST', body: JSON.stringify(form) })
   */
  request(input: string | URL, init?: RequestInit): Promise<Response> {
    const url = typeof input === 'string' && input.startsWith('/') ? `http://localhost${input}` : input
    if (init?.body != null && !(init as { duplex?: string }).duplex) init = { ...init, duplex: 'half' } as RequestInit
    return this.fetch(new Request(url, init), IN_PROCESS)
  }

  /** Run the startup hooks (the server calls this before it listens). */
  async startup(): Promise<void> {
    // One process is primary and worker at once; a `carafe start` worker leaves them to the supervisor.
    // (Mounted apps run their own in their startup below.)
    if (process.env.CARAFE_WORKER !== '1') for (const fn of this.#primary) await fn()
    for (const fn of this.#startup) await fn()
    for (const { app } of this.#mounted) await app.startup()
    this.#started = true
  }

  /** True once {@link startup} has finished (what `/readyz` of `health()` waits for). */
  get started(): boolean {
    return this.#started
  }

  /** True once the server started shutting down (draining its requests): `/readyz` then answers 503, so a load balancer stops sending here. */
  get draining(): boolean {
    return this.#draining
  }

  /** Say the server is draining (the server's `close()` calls it); mounted apps too. @internal */
  markDraining(): void {
    if (this.#draining) return
    this.#draining = true
    // Sockets get 1001 now; the server's close() waits for them as for any connection.
    void this.realtime().closeAll()
    for (const fn of this.#drainingHooks) {
      try {
        fn()
      } catch (e) {
        console.error('[carafe] an onDraining hook threw:', e)
      }
    }
    for (const { app } of this.#mounted) app.markDraining()
  }

  readonly #drainingHooks: Array<() => void> = []

  /**
   * Run `fn` (synchronously) the moment the server starts draining, before in-flight requests
   * are waited for: the place to end long-lived responses (event streams, WebSockets) that
   * would otherwise hold the drain until its deadline.
   */
  onDraining(fn: () => void): this {
    this.#drainingHooks.push(fn)
    return this
  }

  /** Run the shutdown hooks in reverse order (the server calls this after it drains). */
  async shutdown(): Promise<void> {
    for (const { app } of this.#mounted) await app.shutdown()
    for (const fn of this.#shutdown.slice().reverse()) await fn()
  }

  /** Start a Node HTTP server for this app; resolves once it listens. */
  async listen(options: ListenOptions = {}): Promise<CarafeServer> {
    const { listen } = await import('../server/serve.js')
    return listen(this, options)
  }

  /**
   * Serve until Ctrl+C or SIGTERM, like Bottle's `run()` / Flask's `app.run()`: prints
   * `Serving HTTP on …`, logs each request, shuts down gracefully.
   */
  async run(options: RunOptions = {}): Promise<CarafeServer | undefined> {
    RUN_APPS.push(this)
    // Taken now, before any await: who called run() decides whether a test imported it.
    const stack = new Error().stack
    const { run } = await import('../server/serve.js')
    return run(this, options, stack)
  }

  // ---- static files --------------------------------------------------------------------

  #staticFolder: LazyEngine | null = null
  /** URL prefixes of the static folder (first) and of `app.static()` calls, for {@link staticUrl}. */
  readonly #staticPrefixes: string[] = []

  /**
   * Serve the files under `dir` (relative to the app's root folder) at `prefix`, with
   * ETag/304, Range, precompressed siblings and a revalidated memory cache. Routes of the
   * app win over files.
   *
   * @example
   * app.static('/assets', 'public', { maxAge: 3600 })
   */
  static(prefix: string, dir: string, options?: StaticOptions): this {
    this.#staticPrefixes.push(addStaticRoutes(this, prefix, dir, options).prefix)
    return this
  }

  /**
   * The URL of a static file: under the app's `static` folder, else under the first
   * `app.static()` prefix. Templates have it as `static()`:
   * `<link rel="stylesheet" href="{{ static('css/app.css') }}">`.
   *
   * @example
   * app.static('/assets', 'public')
   * app.staticUrl('img/logo 1.png') // '/assets/img/logo%201.png'
   */
  staticUrl(file: string): string {
    const prefix = this.#staticPrefixes[0]
    if (prefix === undefined) {
      throw new CarafeError('ERR_NO_STATIC_FOLDER', `static("${file}"): this app serves no static files; add new Carafe({ static: { dir: 'static' } }) or app.static('/assets', 'public')`)
    }
    return staticUrl(prefix, file)
  }

  /** Flask's `send_static_file`: answer with a file from the `static` folder of the app's options. */
  sendStaticFile(name: string): ReturnType<typeof sendStaticFile> {
    return sendStaticFile(this.#staticFolder, name)
  }
}

/**
 * The segments a mounted app would see after the first `count`; a `/`, `\` or NUL that was
 * percent-encoded inside one of them is a 404: a mounted handler would read it as a
 * separator (or worse), so it would no longer see the path that was routed.
 */
function refuseOpaqueSegments(c: Context<any>, count: number): readonly string[] {
  const rest = c.pathSegments(count)
  for (const seg of rest) {
    if (isOpaqueSegment(seg)) throw new HttpError(404, 'nothing here: the path has an encoded "/", "\\" or NUL, which a mounted app cannot be given', { code: 'ERR_OPAQUE_SEGMENT' })
  }
  return rest
}

/** The pub/sub topic logouts travel on, so every process closes the sockets they end. */
const LOGOUT_TOPIC = 'carafe:logout'
/** This process, so it skips its own logout messages (it closed its sockets directly). */
const PROCESS_ID = `${process.pid}-${Math.random().toString(36).slice(2)}`
interface LogoutMessage { from: string; session: string | null; user: string | number | null; others: boolean }

/** `CARAFE_TRUST_PROXY` (`carafe start --trust-proxy`): `true`, a hop count, or addresses/CIDRs/presets. */
function trustFromEnv(value: string | undefined): TrustProxy | undefined {
  if (value === undefined || value === '' || value === 'false') return undefined
  if (value === 'true') return true
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

/** The `requestIdHeader` option as a lower-case header name (`'x-request-id'` when off). */
function requestIdHeaderOf(option: string | false | undefined): string {
  if (option === undefined || option === false) return 'x-request-id'
  const name = option.trim().toLowerCase()
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new CarafeError('ERR_REQUEST_ID_HEADER', `requestIdHeader: ${JSON.stringify(option)} is not a header name; write it as 'x-request-id'`)
  return name
}

/**
 * The `requestIdHeader` echo, outermost: set once the answer is on `c`, so error answers
 * (which reset the headers) carry it too.
 */
function echoRequestId(header: string): Middleware {
  return async function requestIdHeader(c, next) {
    await next()
    c.header(header, c.requestId)
  }
}

/** Normalize one `trustedOrigins` entry to `scheme://host[:port]`, or say what is wrong with it. */
export function toOrigin(entry: string): string {
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    throw new CarafeError('ERR_TRUSTED_ORIGIN', `trustedOrigins: ${JSON.stringify(entry)} is not an origin; write it as https://example.com`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new CarafeError('ERR_TRUSTED_ORIGIN', `trustedOrigins: ${JSON.stringify(entry)} is not an origin (scheme, host and port only); write it as ${url.origin}`)
  }
  return url.origin
}

/** Compile `allowedHosts` into a test of a lower-case host name (no port). */
function compileAllowedHosts(list: readonly string[] | undefined): ((hostname: string) => boolean) | null {
  if (list === undefined || list.includes('*')) return null
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const raw of list) {
    const h = raw.trim().toLowerCase()
    if (h === '' || /[/:@#?\s]/.test(h.replace(/^\[.*\]$/, ''))) throw new CarafeError('ERR_ALLOWED_HOSTS', `allowedHosts: ${JSON.stringify(raw)} is not a host name (no scheme, port or path): write example.com or .example.com`)
    if (h.startsWith('.')) {
      suffixes.push(h)
      exact.add(h.slice(1))
    } else exact.add(h.endsWith('.') ? h.slice(0, -1) : h)
  }
  return (hostname) => {
    const h = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
    return exact.has(h) || suffixes.some((s) => h.endsWith(s))
  }
}

/**
 * What every template rendered for a request sees: `request`, `params`, and, with the
 * batteries installed, `session`, `current_user`, `get_flashed_messages()` (Flask's),
 * `csrf_token()` and `csrf_field()`.
 */
function requestGlobals(c: Context<any>, engine: TemplateEngine): Record<string, unknown> {
  const out: Record<string, unknown> = { request: c.req, params: c.params }
  const session = c.battery('session')
  if (session !== undefined) {
    out.session = session
    out.get_flashed_messages = (...args: unknown[]) => flashedMessages(c, args)
  }
  const auth = c.battery('auth')
  if (auth !== undefined) out.current_user = auth.user
  if (c.battery('csrf') !== undefined) {
    out.csrf_token = () => c.csrfToken()
    const safe = engine.safe ?? ((html: string) => html)
    out.csrf_field = () => safe(`<input type="hidden" name="_csrf" value="${c.csrfToken()}">`)
  }
  return out
}

/**
 * Flask's `get_flashed_messages(with_categories=false, category_filter=[])`, called from a
 * template with positional or keyword arguments: the messages, or `[category, message]` pairs.
 */
function flashedMessages(c: Context<any>, args: unknown[]): unknown[] {
  const positional = args.slice()
  const last = positional[positional.length - 1] as { __keywords?: boolean; with_categories?: unknown; category_filter?: unknown } | undefined
  const kw = typeof last === 'object' && last !== null && last.__keywords === true ? (positional.pop(), last) : undefined
  const withCategories = kw?.with_categories ?? positional[0]
  const filter = kw?.category_filter ?? positional[1]
  const categories = typeof filter === 'string' ? [filter] : Array.isArray(filter) && filter.length > 0 ? filter.map(String) : undefined
  const list = c.flashes(categories)
  return withCategories === true ? list.map((f) => [f.category, f.message]) : list.map((f) => f.message)
}

/** What `app.request()` tells the Fetch door: the caller is this process. */
const IN_PROCESS: FetchInfo = Object.freeze({ remoteAddress: '127.0.0.1' })

function defaultRoot(): string {
  const file = process.env.CARAFE_APP_FILE ?? process.argv[1]
  return file !== undefined && file !== '' ? path.dirname(path.resolve(file)) : process.cwd()
}

/** The arguments after a route's pattern. */
type RouteArgs = Array<Handler<any> | Middleware | RouteOptions | undefined>

export type { ContextVariables, Middleware, Handler, RouteOptions }
