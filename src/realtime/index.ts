/**
 * `carafe/realtime`: the pieces of Carafe's WebSockets and server-sent events that are not
 * on the app itself (`app.ws()`, `app.publish()`, `c.sse()` are): the {@link PubSub}
 * interface and its in-process default, for writing another transport, and the SSE framing.
 */
export { memoryPubSub } from './pubsub.js'
export { processPubSub, redisPubSub } from './transports.js'
export type { RedisPubSubOptions } from './transports.js'
export type { PubSub } from './pubsub.js'
export { formatEvent } from './sse.js'
export type { SseEvent, SseOptions, SseStream } from './sse.js'
export { CarafeSocket } from './socket.js'
export type { RawSocket, SocketMessage } from './socket.js'
export type { WebSocketHandlers } from './route.js'
export type { WebSocketOptions, WebSocketRouteOptions } from './options.js'
