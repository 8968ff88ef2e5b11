/**
 * Publish/subscribe between the sockets and event streams of an app: `app.publish(topic,
 * message)` reaches every `ws.subscribe(topic)` and `stream.subscribe(topic)`. The default
 * transport, `processPubSub()`, reaches this process and every worker of the same
 * `carafe start`; `redisPubSub({ url })` reaches other instances; any other implements the
 * same methods and is given as the `pubsub` option of `new Carafe()`.
 */
export interface PubSub {
  /** Deliver `message` to every subscriber of `topic` (in this process, and wherever the transport reaches). */
  publish(topic: string, message: unknown): void | Promise<void>
  /** Call `fn` with each message published on `topic`; returns the function that stops it. */
  subscribe(topic: string, fn: (message: unknown) => void): () => void
  /** Close what the transport opened (the app's shutdown calls it). */
  close?(): void | Promise<void>
}

/**
 * The in-process {@link PubSub}: a map of topics to listeners, delivered synchronously. A
 * listener that throws is logged and the others still get the message.
 *
 * @example
 * const bus = memoryPubSub()
 * const off = bus.subscribe('room:1', (m) => console.log(m))
 * bus.publish('room:1', { text: 'hi' })
 * off()
 */
export function memoryPubSub(): PubSub {
  const local = new LocalTopics()
  return {
    publish: (topic, message) => local.deliver(topic, message),
    subscribe: (topic, fn) => local.subscribe(topic, fn),
  }
}

type Listener = (message: unknown) => void

/**
 * The subscribers of this process, by topic (every transport delivers to these first). A
 * listener that throws is logged and the others still get the message. `first`/`last` run
 * when a topic gets its first subscriber and loses its last (a transport subscribes upstream).
 * @internal
 */
export class LocalTopics {
  readonly #topics = new Map<string, Set<Listener>>()

  deliver(topic: string, message: unknown): void {
    const set = this.#topics.get(topic)
    if (set === undefined) return
    for (const fn of [...set]) {
      try {
        fn(message)
      } catch (e) {
        console.error(`[carafe] a subscriber of ${JSON.stringify(topic)} threw:`, e)
      }
    }
  }

  subscribe(topic: string, fn: Listener, first?: () => void, last?: () => void): () => void {
    let set = this.#topics.get(topic)
    if (set === undefined) {
      set = new Set()
      this.#topics.set(topic, set)
      first?.()
    }
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const own: Listener = (m) => fn(m)
    set.add(own)
    let done = false
    return () => {
      if (done) return
      done = true
      set.delete(own)
      if (set.size === 0 && this.#topics.get(topic) === set) {
        this.#topics.delete(topic)
        last?.()
      }
    }
  }

  get topics(): IterableIterator<string> {
    return this.#topics.keys()
  }
}
