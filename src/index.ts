/**
 * Carafe: a fast TypeScript web framework and web server for Node.js.
 *
 * @example
 * import { Carafe } from 'carafe'
 * const app = new Carafe()
 * app.get('/', () => 'Hello!')
 * app.run({ port: 8000 })
 */
export { Carafe } from './core/app.js'
export type { CarafeOptions, FetchHandler, MultiRouteOptions, RouteInfo, RouteMethod } from './core/app.js'
export { defaultApp, route, get, post, put, patch, del, use, url, run } from './core/default-app.js'
export { Context, encodeLocation } from './core/context.js'
export type { BodyValue, ContextVariables, FileBody, HeaderValue, Respondable } from './core/context.js'
export { CarafeRequest } from './core/request.js'
export { HttpError, CarafeError, STATUS_TEXT } from './core/errors.js'
export type { HttpErrorOptions } from './core/errors.js'
export type { Middleware, Next } from './core/compose.js'
export type { ErrorHandler } from './core/dispatch.js'
export type { Handler, RouteOptions } from './core/route.js'
export type { ParamsOf, ConverterTypes } from './router/params.js'
export type { Converter, ConverterArgs, ConverterFactory } from './router/converters.js'
export type { TemplateEngine, NunjucksEngineOptions } from './templates/engine.js'
export type { FetchInfo } from './server/fetch.js'
export type { CarafeServer, ListenOptions, RunOptions } from './server/serve.js'
export type { AccessLogFormat } from './server/access-log.js'
export { staticFile } from './static/static-file.js'
export type { StaticFileOptions } from './static/static-file.js'
