import type { PubSub } from './pubsub.js'

/** What a {@link CarafeSocket} needs of the `ws` WebSocket under it (kept structural, so `ws`'s types stay out of Carafe's). */
export interface RawSocket {
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: string | Uint8Array, cb?: (err?: Error) => void): void
  close(code?: number, reason?: string): void
  terminate(): void
  ping(): void
}

/** What `ws.send()` takes: text, bytes, or anything else (sent as JSON text). */
export type SocketMessage = string | Uint8Array | ArrayBuffer | Record<string, unknown> | unknown[] | number | boolean | null

const OPEN = 1

/**
 * One open WebSocket as a handler sees it: `send` (text, bytes, or a value as JSON), `json`,
 * `close`, `bufferedAmount`, per-socket state in `data`, and topics (`subscribe(topic)`,
 * reached by `app.publish(topic, message)`).
 *
 * @example
 * app.ws('/chat/<room>', {
 *   open(ws, c) { ws.subscribe(`room:${c.params.room}`) },
 *   message(ws, data, c) { c.app.publish(`room:${c.params.room}`, { text: String(data) }) },
 * })
 */
export class CarafeSocket<D = Record<string, unknown>> {
  /** Your state for this connection (a name, a counter): lives as long as the socket. */
  data: D = {} as D
  readonly #raw: RawSocket
  readonly #pubsub: () => PubSub
  readonly #maxBuffered: number
  readonly #onSlow: (ws: CarafeSocket<D>) => void
  readonly #topics = new Map<string, () => void>()
  #closed = false

  /** @internal Made by the upgrade door, one per connection. */
  constructor(raw: RawSocket, pubsub: () => PubSub, maxBuffered: number, onSlow: (ws: CarafeSocket<any>) => void) {
    this.#raw = raw
    this.#pubsub = pubsub
    this.#maxBuffered = maxBuffered
    this.#onSlow = onSlow
  }

  /** The `ws` WebSocket itself, for what this wrapper does not cover. */
  get raw(): RawSocket {
    return this.#raw
  }

  /** True while messages can be sent (the socket is open and has not been cut). */
  get isOpen(): boolean {
    return !this.#closed && this.#raw.readyState === OPEN
  }

  /** Bytes queued for this client and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.#raw.bufferedAmount
  }

  /**
   * Send text or bytes; any other value goes as JSON text. Returns false when the socket is
   * no longer open, or when this send put more than the `maxBufferedAmount` limit in the
   * queue: a client that does not read is then closed (1013) rather than buffered for ever.
   */
  send(message: SocketMessage): boolean {
    if (!this.isOpen) return false
    const data = typeof message === 'string' || message instanceof Uint8Array ? message
      : message instanceof ArrayBuffer ? new Uint8Array(message) : JSON.stringify(message)
    this.#raw.send(data)
    if (this.#raw.bufferedAmount > this.#maxBuffered) {
      this.#onSlow(this)
      return false
    }
    return true
  }

  /** Send `value` as JSON text (also for strings: `ws.json('hi')` sends `"hi"`). */
  json(value: unknown): boolean {
    return this.send(JSON.stringify(value))
  }

  /** Start the closing handshake (1000 by default). */
  close(code = 1000, reason = ''): void {
    this.#raw.close(code, reason)
  }

  /** Receive what `app.publish(topic, message)` sends, until {@link unsubscribe} or the socket closes. */
  subscribe(topic: string): void {
    if (this.#closed || this.#topics.has(topic)) return
    this.#topics.set(topic, this.#pubsub().subscribe(topic, (m) => { this.send(m as SocketMessage) }))
  }

  /** Stop receiving `topic`. */
  unsubscribe(topic: string): void {
    this.#topics.get(topic)?.()
    this.#topics.delete(topic)
  }

  /** The topics this socket receives. */
  get topics(): string[] {
    return [...this.#topics.keys()]
  }

  /** @internal The socket closed: drop its subscriptions. */
  released(): void {
    this.#closed = true
    for (const off of this.#topics.values()) off()
    this.#topics.clear()
  }
}
