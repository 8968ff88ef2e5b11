import type { Context } from '../core/context.js'
import type { CarafeSocket } from './socket.js'

/** What happens on one WebSocket route: each hook gets the socket and the upgrade request's context (params, query, session, user). */
export interface WebSocketHandlers<P = Record<string, unknown>, D = Record<string, unknown>> {
  /** The connection is open. */
  open?(ws: CarafeSocket<D>, c: Context<P>): unknown
  /** A message arrived: a string for a text frame (valid UTF-8, or the socket was closed with 1007), a Buffer for a binary one. */
  message?(ws: CarafeSocket<D>, data: string | Buffer, c: Context<P>): unknown
  /** The connection closed, with the close code and reason the peer sent (1006 when it went away without one). */
  close?(ws: CarafeSocket<D>, code: number, reason: string, c: Context<P>): unknown
}

/** A WebSocket route's handlers and limits, as the upgrade door reads them. @internal */
export interface WebSocketEntry {
  readonly handlers: WebSocketHandlers<any, any>
  readonly maxPayload: number | undefined
}

/** Contexts whose upgrade the route accepted (its handler ran, so the middleware let it through). @internal */
export const ACCEPTED = new WeakMap<Context<any>, WebSocketEntry>()

/** The method key WebSocket routes live under in the route tree: GET routes and WS routes of one path never collide. @internal */
export const WS_METHOD = 'WS'

/**
 * The route handler `app.ws()` registers: it runs last, after the app's and the route's
 * middleware, and only marks the context as accepted (status 101); the upgrade door then
 * upgrades. Anything else on `c` by the time dispatch is done (a guard's 401 or 302) is
 * written as an HTTP answer instead.
 */
export function acceptUpgrade(entry: WebSocketEntry): (c: Context<any>) => unknown {
  return function websocket(c) {
    ACCEPTED.set(c, entry)
    return c.status(101)
  }
}
