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
  const topics = new Map<string, Set<(message: unknown) => void>>()
  return {
    publish(topic, message) {
      const set = topics.get(topic)
      if (set === undefined) return
      for (const fn of [...set]) {
        try {
          fn(message)
        } catch (e) {
          console.error(`[carafe] a subscriber of ${JSON.stringify(topic)} threw:`, e)
        }
      }
    },
    subscribe(topic, fn) {
      let set = topics.get(topic)
      if (set === undefined) topics.set(topic, (set = new Set()))
      // A wrapper per call, so the same function subscribed twice is two subscriptions.
      const own = (m: unknown): void => fn(m)
      set.add(own)
      return () => {
        set.delete(own)
        if (set.size === 0 && topics.get(topic) === set) topics.delete(topic)
      }
    },
  }
}
