import type { Context } from './context.js'
import { HTML, TEXT } from './context.js'
import type { Middleware } from './compose.js'
import { HttpError, isHttpError, STATUS_TEXT } from './errors.js'
import { applyHandlerResult, applyResult } from './result.js'
import { buildParams, type Handler, type Route } from './route.js'
import type { AppServices } from './services.js'
import type { Endpoint, RouteTree } from '../router/tree.js'
import { escapeHtml } from '../util/html-escape.js'
import { segmentsOf } from '../router/canonical.js'
import { mayShowDebugPage } from './debug-gate.js'
import { WS_METHOD } from '../realtime/route.js'
import type { ValidationIssue } from '../forms/validate.js'

/** Turns an error into a response: return a value as a handler would, or set it on `c`. */
export type ErrorHandler = (error: unknown, c: Context) => unknown

/** What the app hands its dispatcher when it freezes. */
export interface DispatcherConfig {
  app: AppServices & { readonly bodyLimit: number }
  /** The app's `allowedHosts` as a test of the request's host name, or `null` for any host. */
  allowedHost: ((hostname: string) => boolean) | null
  tree: RouteTree<Route>
  middleware: Middleware[]
  onError: ErrorHandler | undefined
  notFound: Handler | undefined
  redirectSlashes: boolean
  compose: (mw: readonly Middleware[], inner: (c: Context<any>) => Promise<void>) => (c: Context<any>) => Promise<void>
  /** The plugins' error translation (a database's no-row → 404 …), applied before `onError`. */
  mapError?: (error: unknown) => HttpError | undefined
  /** The app's `validationError` option: the body of a validation failure. */
  validationError?: ((c: Context, issues: ValidationIssue[], status: number) => unknown) | undefined
}

/** Loaded on the first error in debug mode, so production never loads it. */
let debugPage: typeof import('../server/debug-page.js') | null = null

/**
 * The one dispatch path both doors share: match → middleware → handler → result on `c`.
 * Returns nothing when everything ran synchronously (the fast path: no middleware, a
 * handler that returns a value), or a promise that settles once the response is on `c`.
 * It never rejects: every error ends in the error handler.
 */
export class Dispatcher {
  readonly #cfg: DispatcherConfig
  readonly #hasMiddleware: boolean
  readonly #wrapped = new WeakMap<Route, (c: Context<any>) => Promise<void>>()

  readonly #allowedHost: ((hostname: string) => boolean) | null

  constructor(cfg: DispatcherConfig) {
    this.#cfg = cfg
    this.#allowedHost = cfg.allowedHost
    this.#hasMiddleware = cfg.middleware.length > 0
  }

  /**
   * `upgrade` is the WebSocket door's: the path is routed as any other, but to the path's
   * WebSocket route (its own method key in the tree), and a path without one is a 404.
   */
  handle(c: Context<any>, upgrade = false): void | Promise<void> {
    let route: Route | undefined
    let endpoint: Endpoint<Route>
    try {
      const canon = c.req.canonical
      // A refused path (bad encoding, dot segment) is never routed; see router/canonical.ts.
      if (canon.error !== null) return this.#fail(c, canon.error)
      if (this.#allowedHost !== null && !this.#allowedHost(c.req.hostname)) return this.#fail(c, badHost(c.req.hostname))
      const start = c.segmentStart
      let segs = canon.segments
      if (start !== 0) segs = start < segmentsOf(canon).length ? segmentsOf(canon) : null
      const m = this.#cfg.tree.match(c.path, canon.plain, segs, segs === null ? 0 : start)
      if (m === null) return this.#fallback(c, this.#missing)
      endpoint = m.endpoint
      const method = c.req.method
      route = upgrade ? endpoint.byMethod[WS_METHOD] : endpoint.byMethod[method] ?? endpoint.anyMethod ?? (method === 'HEAD' ? endpoint.byMethod.GET : undefined)
      if (route === undefined && upgrade) return this.#fallback(c, this.#missing)
      if (route === undefined) return this.#fallback(c, method === 'OPTIONS' ? answerOptions(endpoint) : refuseMethod(endpoint))
      if (m.values.length !== 0) {
        const params = buildParams(route, m.values)
        if (params === null) return this.#fallback(c, this.#missing)
        c.params = params
      }
      if (route.bodyLimit !== undefined) c.req.setBodyLimit(route.bodyLimit)
    } catch (e) {
      return this.#fail(c, e)
    }
    if (this.#hasMiddleware || route.middleware.length !== 0) return this.#chain(route)(c).then(undefined, (e) => this.#fail(c, e))

    // Fast path: no middleware, so call the handler directly and, when it returns a plain
    // value synchronously, finish without allocating a single promise.
    let out: unknown
    try {
      out = route.handler(c)
    } catch (e) {
      return this.#fail(c, e)
    }
    if (isThenable(out)) return out.then((v) => this.#settle(c, v), (e) => this.#fail(c, e))
    return this.#settle(c, out)
  }

  #settle(c: Context<any>, value: unknown): void | Promise<void> {
    try {
      const p = applyHandlerResult(c, value)
      if (p !== undefined) return p.then(undefined, (e) => this.#fail(c, e))
    } catch (e) {
      return this.#fail(c, e)
    }
  }

  #chain(route: Route): (c: Context<any>) => Promise<void> {
    let fn = this.#wrapped.get(route)
    if (fn === undefined) {
      const mw = route.middleware.length === 0 ? this.#cfg.middleware : [...this.#cfg.middleware, ...route.middleware]
      fn = this.#cfg.compose(mw, this.#inner(route.handler))
      this.#wrapped.set(route, fn)
    }
    return fn
  }

  /** The innermost step: run the handler and put its result on `c`; errors become error responses here, so middleware sees them on the way out. */
  #inner(handler: Handler<any>): (c: Context<any>) => Promise<void> {
    return async (c) => {
      try {
        await applyHandlerResult(c, await handler(c))
      } catch (e) {
        await this.#fail(c, e)
      }
    }
  }

  #fallback(c: Context<any>, handler: Handler<any>): void | Promise<void> {
    if (!this.#hasMiddleware) {
      try {
        const out = handler(c)
        if (isThenable(out)) return out.then((v) => this.#settle(c, v), (e) => this.#fail(c, e))
        return this.#settle(c, out)
      } catch (e) {
        return this.#fail(c, e)
      }
    }
    return this.#cfg.compose(this.#cfg.middleware, this.#inner(handler))(c).then(undefined, (e) => this.#fail(c, e))
  }

  readonly #missing = (c: Context<any>): unknown => {
    const path = c.path
    // Flask's slash rule: `/a` answers with a 308 to `/a/` when only `/a/` exists.
    if (this.#cfg.redirectSlashes && !path.endsWith('/') && this.#cfg.tree.match(`${path}/`, c.req.canonical.plain, [...c.pathSegments(), ''], 0) !== null) {
      const full = c.req.path
      const query = c.req.rawQuery
      // Exactly one leading slash, so `//evil.example` can never become a scheme-relative redirect.
      const location = `${full.replace(/^\/+/, '/')}/${query === '' ? '' : `?${query}`}`
      return c.redirect(location, 308)
    }
    if (this.#cfg.notFound !== undefined) return this.#cfg.notFound(c)
    throw new HttpError(404, `nothing here: no route matches ${c.req.canonical.text}`)
  }

  /**
   * Turn an error into the error response on `c`; never throws, never rejects. An `onError`
   * that throws or returns an error (the one it got, or another) hands it to the default
   * handling, so `if (isHttpError(err)) return err` keeps a 404 a 404.
   */
  #fail(c: Context<any>, error: unknown): void | Promise<void> {
    c.resetResponse()
    const map = this.#cfg.mapError
    if (map !== undefined && !isHttpError(error)) error = map(error) ?? error
    const onError = this.#cfg.onError
    if (onError !== undefined) {
      try {
        const out = onError(error, c)
        if (isThenable(out)) return out.then((v) => this.#applyErrorResult(c, v), (e) => this.#defaultError(c, e)).then(undefined, (e) => this.#defaultError(c, e))
        return this.#applyErrorResult(c, out)
      } catch (e) {
        return this.#defaultError(c, e)
      }
    }
    return this.#defaultError(c, error)
  }

  #applyErrorResult(c: Context<any>, out: unknown): void | Promise<void> {
    if (out instanceof Error || isHttpError(out)) return this.#defaultError(c, out)
    const p = applyResult(c, out)
    if (p !== undefined) return p.then(undefined, (e) => this.#defaultError(c, e))
  }

  #defaultError(c: Context<any>, error: unknown): void | Promise<void> {
    c.resetResponse()
    if (isHttpError(error)) {
      for (const [k, v] of Object.entries(error.headers)) c.header(k, v)
      const issues = (error as { issues?: unknown }).issues
      const shape = this.#cfg.validationError
      if (shape !== undefined && Array.isArray(issues)) return this.#shapeValidation(c, shape, issues as ValidationIssue[], error.status)
      return errorBody(c, error.status, error.message, issues as unknown[] | undefined)
    }
    // With a `logger` option, one JSON line carrying the request id; else the stack as Node prints it.
    if (c.app.log?.configured === true) c.log.error('request failed', { error })
    else console.error(`[carafe] ${c.req.method} ${c.req.path} failed:`, error)
    if (this.#cfg.app.debug && mayShowDebugPage(c.req.remoteAddress, (name) => c.req.header(name), c.req.host)) {
      return (debugPage !== null ? Promise.resolve(debugPage) : import('../server/debug-page.js'))
        .then((m) => {
          debugPage = m
          return m.renderDebugPage(error, c)
        })
        .then((html) => { c.html(html, 500) }, () => errorBody(c, 500, 'the server hit an error and could not finish the request'))
    }
    // A 500 outside debug mode says nothing about the error: no stack, no paths.
    errorBody(c, 500, 'the server hit an error and could not finish the request')
  }

  /** The app's `validationError(c, issues, status)` answer; when it throws, the default body. */
  #shapeValidation(c: Context<any>, shape: NonNullable<DispatcherConfig['validationError']>, issues: ValidationIssue[], status: number): void | Promise<void> {
    const fallback = (e: unknown): void => {
      console.error('[carafe] the validationError option threw:', e)
      c.resetResponse()
      errorBody(c, status, 'the request is invalid', issues)
    }
    try {
      c.status(status)
      const p = applyResult(c, shape(c, issues, status))
      if (p !== undefined) return p.then(() => { c.status(status) }, fallback)
      c.status(status)
    } catch (e) {
      fallback(e)
    }
  }
}

function errorBody(c: Context<any>, status: number, message: string, issues?: unknown[]): void {
  const reason = STATUS_TEXT[status] ?? 'Error'
  const accept = c.req.header('accept') ?? ''
  const html = accept.includes('text/html')
  // An API client (it accepts JSON, or sent JSON and does not ask for HTML) gets JSON.
  if (!html && (accept.includes('application/json') || c.req.contentType === 'application/json')) {
    c.json(issues === undefined ? { error: reason, status, message } : { error: reason, status, message, issues }, status)
  } else if (html) {
    const list = issues === undefined ? '' : `<ul>${(issues as Array<{ path: string; message: string }>).map((i) => `<li>${i.path === '' ? '' : `<b>${escapeHtml(i.path)}</b>: `}${escapeHtml(i.message)}</li>`).join('')}</ul>`
    c.html(`<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>${status} ${reason}</title>\n<h1>${status} ${reason}</h1>\n<p>${escapeHtml(message)}</p>${list}\n</html>\n`, status)
  } else {
    c.body(`${status} ${reason}: ${message}\n`, status, TEXT)
  }
}

function answerOptions(endpoint: Endpoint<Route>): Handler<any> {
  return (c) => {
    c.header('allow', endpoint.allow)
    return c.body(null, 204)
  }
}

function refuseMethod(endpoint: Endpoint<Route>): Handler<any> {
  return (c) => {
    // RFC 9110 §15.5.22: a WebSocket-only path asked for without the upgrade.
    if (endpoint.byMethod[WS_METHOD] !== undefined && c.req.method === 'GET') {
      throw new HttpError(426, 'this path is a WebSocket endpoint: connect with a WebSocket client', { headers: { upgrade: 'websocket' } })
    }
    throw new HttpError(405, `${c.req.method} is not allowed here; allowed: ${endpoint.allow}`, { headers: { allow: endpoint.allow } })
  }
}

function isThenable(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

function badHost(hostname: string): HttpError {
  return new HttpError(400, `the host ${JSON.stringify(hostname)} is not one this app serves (see the allowedHosts option)`, { code: 'ERR_HOST_NOT_ALLOWED' })
}

export { HTML }
export { isLoopback } from './debug-gate.js'
