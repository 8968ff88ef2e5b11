import type { PubSub } from './pubsub.js'

/** One server-sent event. `data` that is not a string is sent as JSON; a string with newlines becomes several `data:` lines. */
export interface SseEvent {
  /** The event type (`addEventListener(event, …)` in the browser). @default 'message' on the client */
  event?: string
  data?: unknown
  /** The id the browser sends back as `Last-Event-ID` when it reconnects. */
  id?: string | number
  /** How long the browser waits before reconnecting, in ms. */
  retry?: number
}

/** Options of `c.sse()`. */
export interface SseOptions {
  /** Interval of the heartbeat comment (`: ping`) that keeps proxies from closing an idle stream, in ms; `0` for none. @default 15000 */
  heartbeat?: number
}

/** The stream a `c.sse()` handler writes to. */
export interface SseStream {
  /** The `Last-Event-ID` the browser sent (it reconnected after the event with that id), or `undefined`. */
  readonly lastEventId: string | undefined
  /** True once the client left or the stream was closed. */
  readonly closed: boolean
  /** Aborted when the stream closes: hand it to `fetch()`, database queries, timers. */
  readonly signal: AbortSignal
  /**
   * Send an event (or a string as the event's data). Resolves once the stream has room for
   * more (backpressure), `true`; `false` when the stream is closed (the client left):
   * nothing is written after that, so a loop should stop.
   */
  send(event: SseEvent | string): Promise<boolean>
  /** Send a comment line (`: text`), which the browser ignores. */
  comment(text: string): Promise<boolean>
  /** Run `fn` once the stream closes (client gone, handler done, or {@link close}). */
  onClose(fn: () => void): void
  /**
   * Send what `app.publish(topic, message)` publishes, as events (`{ data: message }`, or what
   * `map` makes of it). A stream with subscriptions stays open after the handler returns,
   * until the client leaves or {@link close} is called.
   */
  subscribe(topic: string, map?: (message: unknown) => SseEvent): void
  /** End the stream. */
  close(): void
}

const encoder = new TextEncoder()

/**
 * The wire form of one event (WHATWG HTML §9.2.6): `field: value` lines and a blank line.
 * `event` and `id` cannot hold a line break (it would start a new field: event injection),
 * nor can `id` hold NUL (the browser ignores such an id), so those are refused.
 */
export function formatEvent(e: SseEvent | string): string {
  if (typeof e === 'string') e = { data: e }
  let out = ''
  if (e.event !== undefined) out += `event: ${checkField('event', e.event)}\n`
  if (e.id !== undefined) {
    const id = checkField('id', String(e.id))
    if (id.includes('\0')) throw new TypeError('an SSE id cannot contain NUL')
    out += `id: ${id}\n`
  }
  if (e.retry !== undefined) {
    if (!Number.isInteger(e.retry) || e.retry < 0) throw new TypeError(`SSE retry must be a whole number of ms, not ${e.retry}`)
    out += `retry: ${e.retry}\n`
  }
  if (e.data !== undefined) {
    const text = typeof e.data === 'string' ? e.data : JSON.stringify(e.data) ?? 'null'
    for (const line of text.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  }
  return `${out}\n`
}

function checkField(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new TypeError(`an SSE ${name} cannot contain a line break: ${JSON.stringify(value)}`)
  return value
}

/**
 * The body of a `c.sse()` answer: a `ReadableStream` both doors write with backpressure.
 * The client leaving cancels it (the Node door destroys the body when the connection
 * closes), which aborts `signal`, clears the heartbeat, drops the subscriptions and runs
 * the `onClose` functions; a `send` waiting for room resolves `false` (the hang of
 * honojs/hono#1770 is an awaited write after the client is gone that never settles).
 */
export function createSseBody(run: (stream: SseStream) => unknown, lastEventId: string | undefined, pubsub: (() => PubSub) | undefined, options: SseOptions = {}): ReadableStream<Uint8Array> {
  const abort = new AbortController()
  const closers: Array<() => void> = []
  const topics: Array<() => void> = []
  let waiters: Array<(ok: boolean) => void> = []
  let ctl!: ReadableStreamDefaultController<Uint8Array>
  let closed = false
  let timer: NodeJS.Timeout | null = null

  const finish = (cancelled: boolean): void => {
    if (closed) return
    closed = true
    if (timer !== null) clearInterval(timer)
    for (const off of topics.splice(0)) off()
    for (const w of waiters.splice(0)) w(false)
    if (!cancelled) {
      try { ctl.close() } catch { /* already closed by the consumer */ }
    }
    abort.abort()
    for (const fn of closers.splice(0)) {
      try { fn() } catch (e) { console.error('[carafe] sse: an onClose function threw:', e) }
    }
  }
  const write = (text: string): Promise<boolean> => {
    if (closed) return Promise.resolve(false)
    ctl.enqueue(encoder.encode(text))
    if ((ctl.desiredSize ?? 1) > 0) return Promise.resolve(true)
    return new Promise((resolve) => waiters.push(resolve))
  }
  const stream: SseStream = {
    lastEventId,
    get closed() { return closed },
    signal: abort.signal,
    send: (event) => closed ? Promise.resolve(false) : write(formatEvent(event)),
    comment: (text) => write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`),
    onClose(fn) {
      if (closed) fn()
      else closers.push(fn)
    },
    subscribe(topic, map) {
      if (closed) return
      if (pubsub === undefined) throw new TypeError('stream.subscribe() needs an app with a pubsub (a Carafe app)')
      topics.push(pubsub().subscribe(topic, (m) => { void stream.send(map === undefined ? { data: m } : map(m)) }))
    },
    close: () => finish(false),
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      ctl = controller
      // A first comment puts the head on the wire at once: a proxy or fetch() that waits for the first byte sees the stream open.
      controller.enqueue(encoder.encode(':\n\n'))
      const every = options.heartbeat ?? 15_000
      if (every > 0) {
        timer = setInterval(() => { void write(': ping\n\n') }, every)
        timer.unref()
      }
      queueMicrotask(() => {
        let out: unknown
        try {
          out = run(stream)
        } catch (e) {
          out = Promise.reject(e)
        }
        Promise.resolve(out).then(() => {
          if (topics.length === 0) finish(false)
        }, (e: unknown) => {
          if (!closed) console.error('[carafe] sse: the handler threw:', e)
          finish(false)
        })
      })
    },
    pull() {
      const ready = waiters
      waiters = []
      for (const w of ready) w(true)
    },
    cancel() {
      finish(true)
    },
  }, { highWaterMark: 16 })
}
