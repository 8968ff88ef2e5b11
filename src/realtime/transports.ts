import { lazyRequire } from '../util/lazy.js'
import { requirePeer } from '../util/peer.js'
import type { FromWorker } from '../server/supervisor.js'
import { LocalTopics as Local, type PubSub } from './pubsub.js'

/**
 * The transports of `app.publish()` that reach other processes. Each delivers to the
 * subscribers of this process at once (so a transport that is down never stops local
 * delivery), and to the other processes it reaches. Messages cross processes as JSON.
 */
type TopicMessage = unknown

/**
 * The default transport: this process, and under `carafe start` every worker of the same
 * supervisor (a message goes up the IPC channel and the supervisor passes it to the
 * others). No service needed; instances on other machines need {@link redisPubSub}.
 */
export function processPubSub(): PubSub {
  const local = new Local()
  const worker = process.env.CARAFE_WORKER === '1' && typeof process.send === 'function'
  if (worker) {
    process.on('message', (m: { carafe?: string; topic?: unknown; message?: TopicMessage }) => {
      if (typeof m === 'object' && m !== null && m.carafe === 'pub' && typeof m.topic === 'string') local.deliver(m.topic, m.message ?? null)
    })
  }
  return {
    publish(topic, message) {
      local.deliver(topic, message)
      if (worker && process.connected) process.send!({ carafe: 'pub', topic, message } satisfies FromWorker, undefined, {}, () => {})
    },
    subscribe: (topic, fn) => local.subscribe(topic, fn),
  }
}

/** Options for {@link redisPubSub}. */
export interface RedisPubSubOptions {
  /** `redis://127.0.0.1:6379`. */
  url: string
  /** Channel prefix: apps sharing a Redis keep apart with their own. @default 'carafe:pub:' */
  prefix?: string
}

interface RedisClient {
  connect(): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  on(event: 'error', fn: (e: Error) => void): unknown
  on(event: 'ready', fn: () => void): unknown
  quit?(): Promise<unknown>
  close?(): Promise<unknown>
  readonly isReady: boolean
}

/**
 * Pub/sub across instances (machines, or several `carafe start`s) through Redis: every
 * process publishes to and subscribes on Redis channels (`prefix` + topic). Local delivery
 * does not wait for Redis: while Redis is away, this process's subscribers still get
 * their messages, other instances miss them, and delivery across instances resumes when
 * node-redis has reconnected (it resubscribes by itself).
 */
export function redisPubSub(options: RedisPubSubOptions): PubSub {
  const redis = requirePeer<typeof import('redis')>('redis', 'redis', 'redisPubSub()')
  const prefix = options.prefix ?? 'carafe:pub:'
  // Our own messages come back from Redis: they carry this process's id and are skipped.
  const me = lazyRequire<typeof import('node:crypto')>('node:crypto').randomBytes(6).toString('base64url')
  const local = new Local()
  const make = (): RedisClient => {
    const c = redis.createClient({ url: options.url, disableOfflineQueue: true, socket: { reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 5000) } }) as unknown as RedisClient
    let noted = 0
    c.on('error', (e) => {
      if (Date.now() - noted > 10_000) console.error(`[carafe] redisPubSub: ${e.message} (local delivery goes on; other instances get messages again once Redis is back)`)
      noted = Date.now()
    })
    return c
  }
  const pub = make()
  const sub = make()
  const ready = Promise.all([pub.connect(), sub.connect()]).catch(() => {})
  const onMessage = (topic: string) => (raw: string): void => {
    let parsed: { from: string; message: TopicMessage }
    try {
      parsed = JSON.parse(raw) as typeof parsed
    } catch {
      return
    }
    if (parsed.from !== me) local.deliver(topic, parsed.message)
  }
  // Channels Redis confirmed (node-redis resubscribes those after a reconnect by itself);
  // the ones a subscribe missed while Redis was away are subscribed when it is back.
  const confirmed = new Set<string>()
  const want = (topic: string): void => {
    if (confirmed.has(topic) || !sub.isReady) return
    confirmed.add(topic)
    sub.subscribe(prefix + topic, onMessage(topic)).catch(() => confirmed.delete(topic))
  }
  sub.on('ready', () => { for (const topic of local.topics) want(topic) })
  return {
    publish(topic, message) {
      local.deliver(topic, message)
      if (pub.isReady) pub.publish(prefix + topic, JSON.stringify({ from: me, message })).catch(() => {})
    },
    subscribe(topic, fn) {
      return local.subscribe(topic, fn, () => { void ready.then(() => want(topic)) }, () => {
        if (!confirmed.delete(topic)) return
        sub.unsubscribe(prefix + topic).catch(() => {})
      })
    },
    async close() {
      await ready
      await Promise.all([pub, sub].map((c) => (c.close ?? c.quit)?.call(c).catch(() => {})))
    },
  }
}
