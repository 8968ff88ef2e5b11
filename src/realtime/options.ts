import type { PubSub } from './pubsub.js'

/** WebSocket limits of an app (`new Carafe({ websocket: { … } })`). Every limit is on by default. */
export interface WebSocketOptions {
  /** Largest message accepted, in bytes; past it the socket is closed with 1009. @default 1048576 */
  maxPayload?: number
  /** Most WebSockets open at once in this process; an upgrade past it is refused with 503. @default 10000 */
  maxConnections?: number
  /** Most bytes queued for sending to one client; a client that does not read past it is closed with 1013. @default 4194304 */
  maxBufferedAmount?: number
  /** Interval of the ping heartbeat, in ms: a peer that has not answered the last ping by the next is terminated. `0` turns it off. @default 30000 */
  heartbeat?: number
  /** How long a server shutdown waits for clients to answer the 1001 close before cutting them, in ms. @default 1000 */
  closeTimeout?: number
}

/** Options of one WebSocket route (`app.ws(pattern, handlers, options)`): the app's, for this route only. */
export interface WebSocketRouteOptions {
  /** Largest message accepted on this route, in bytes (1009 past it). @default the app's `maxPayload` */
  maxPayload?: number
  /** Route name for `app.url()`. */
  name?: string
}

/** The app-wide real-time settings, resolved. @internal */
export interface RealtimeSettings {
  maxPayload: number
  maxConnections: number
  maxBufferedAmount: number
  heartbeat: number
  closeTimeout: number
  pubsub: PubSub | undefined
}

/** Fill in the defaults of {@link WebSocketOptions}. @internal */
export function resolveRealtime(o: WebSocketOptions = {}, pubsub?: PubSub): RealtimeSettings {
  return {
    maxPayload: o.maxPayload ?? 1024 * 1024,
    maxConnections: o.maxConnections ?? 10_000,
    maxBufferedAmount: o.maxBufferedAmount ?? 4 * 1024 * 1024,
    heartbeat: o.heartbeat ?? 30_000,
    closeTimeout: o.closeTimeout ?? 1000,
    pubsub,
  }
}
