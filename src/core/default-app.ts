import { Carafe, type RouteMethod } from './app.js'
import type { Middleware } from './compose.js'
import type { Handler } from './route.js'
import type { ParamsOf } from '../router/params.js'
import type { CarafeServer, RunOptions } from '../server/serve.js'

/**
 * The app behind Bottle-style module functions (`route`, `get`, `run`, …), made on first use.
 * Its relative paths resolve against the folder of the script that was run.
 */
let app: Carafe | null = null

/** The default app used by the module-level functions. */
export function defaultApp(): Carafe {
  app ??= new Carafe()
  return app
}

/**
 * Bottle's `@route`: GET by default, or `{ methods: [...] }`.
 *
 * @example
 * route('/subpage/<thing>', ({ params }) => `Hello from ${params.thing}`)
 */
export function route<P extends string>(pattern: P, handler: Handler<ParamsOf<P>>): Carafe
export function route<P extends string>(pattern: P, options: { methods?: string[]; name?: string }, handler: Handler<ParamsOf<P>>): Carafe
export function route<P extends string>(pattern: P, a: Handler<ParamsOf<P>> | { methods?: string[]; name?: string }, b?: Handler<ParamsOf<P>>): Carafe {
  return typeof a === 'function' ? defaultApp().route(pattern, a) : defaultApp().route(pattern, a, b!)
}

function method(name: 'get' | 'post' | 'put' | 'patch' | 'delete'): RouteMethod<Carafe> {
  return ((pattern: string, ...rest: unknown[]) => (defaultApp()[name] as (p: string, ...r: unknown[]) => Carafe)(pattern, ...rest)) as RouteMethod<Carafe>
}

/** `get(pattern, handler)` on the default app. */
export const get: RouteMethod<Carafe> = method('get')
/** `post(pattern, handler)` on the default app. */
export const post: RouteMethod<Carafe> = method('post')
/** `put(pattern, handler)` on the default app. */
export const put: RouteMethod<Carafe> = method('put')
/** `patch(pattern, handler)` on the default app. */
export const patch: RouteMethod<Carafe> = method('patch')
/** `del(pattern, handler)` on the default app (`delete` is a keyword). */
export const del: RouteMethod<Carafe> = method('delete')

/** Add middleware to the default app. */
export function use(middleware: Middleware): Carafe {
  return defaultApp().use(middleware)
}

/** Reverse URL of a named route of the default app. */
export function url(name: string, params?: Record<string, unknown>): string {
  return defaultApp().url(name, params)
}

/** Bottle's `run()`: serve the default app until Ctrl+C. */
export function run(options?: RunOptions): Promise<CarafeServer | undefined> {
  return defaultApp().run(options)
}
