import { lazyRequire } from '../util/lazy.js'
import { memoryPubSub, type PubSub } from './pubsub.js'
import type { RealtimeSettings } from './options.js'
import type { CarafeSocket } from './socket.js'

/** Who an open socket belongs to, for closing it on logout. */
interface Owner {
  session: string | null
  user: unknown
}

/** RFC 6455 §7.4.1: 1001 "going away" (server shutdown), 1008 policy violation (logged out), 1013 try again later (too slow). */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_POLICY = 1008
export const CLOSE_TRY_LATER = 1013

/**
 * The real-time state of one app in this process: its open sockets (with the session and
 * user each was opened by), the heartbeat that finds dead peers, and the pub/sub transport.
 * It never loads `ws`: that happens in the upgrade door, on the first upgrade.
 */
export class RealtimeHub {
  readonly settings: RealtimeSettings
  readonly #sockets = new Map<CarafeSocket<any>, Owner>()
  readonly #alive = new WeakSet<CarafeSocket<any>>()
  #pubsub: PubSub | undefined
  #beat: NodeJS.Timeout | null = null
  /** Set once the server shuts down: upgrades are refused from then on. */
  closing = false

  constructor(settings: RealtimeSettings) {
    this.settings = settings
    this.#pubsub = settings.pubsub
  }

  get pubsub(): PubSub {
    return (this.#pubsub ??= memoryPubSub())
  }

  /** Sockets open now. */
  get size(): number {
    return this.#sockets.size
  }

  add(ws: CarafeSocket<any>, owner: Owner): void {
    this.#sockets.set(ws, owner)
    this.#alive.add(ws)
    if (this.#beat === null && this.settings.heartbeat > 0) {
      this.#beat = setInterval(() => this.#heartbeat(), this.settings.heartbeat)
      // Only open sockets need it, and they keep the process alive themselves.
      this.#beat.unref()
    }
  }

  remove(ws: CarafeSocket<any>): void {
    this.#sockets.delete(ws)
    ws.released()
    if (this.#sockets.size === 0 && this.#beat !== null) {
      clearInterval(this.#beat)
      this.#beat = null
    }
  }

  /** A pong (or any frame) came: the peer is alive. */
  pong(ws: CarafeSocket<any>): void {
    this.#alive.add(ws)
  }

  /** Ping every socket; one that has not answered the previous ping is terminated (a dead peer sends no close frame, and TCP alone may not notice for hours). */
  #heartbeat(): void {
    for (const ws of this.#sockets.keys()) {
      if (!this.#alive.has(ws)) {
        console.error('[carafe] websocket: a peer did not answer the last ping; terminated')
        ws.raw.terminate()
        continue
      }
      this.#alive.delete(ws)
      try {
        ws.raw.ping()
      } catch {
        ws.raw.terminate()
      }
    }
  }

  /** Close the sockets opened with session `id` (c.logout()). */
  closeSession(id: string | null, code = CLOSE_POLICY, reason = 'logged out'): void {
    if (id === null) return
    for (const [ws, owner] of this.#sockets) if (owner.session === id) ws.close(code, reason)
  }

  /** Close the sockets of user `user` except those of session `keep` (c.logoutOthers()). */
  closeUser(user: unknown, keep: string | null, code = CLOSE_POLICY, reason = 'logged out'): void {
    if (user === undefined || user === null) return
    for (const [ws, owner] of this.#sockets) if (owner.user === user && owner.session !== keep) ws.close(code, reason)
  }

  /** A logout in another process: close the sockets of the session whose id hashes to `hash`. */
  closeSessionHash(hash: string, code = CLOSE_POLICY, reason = 'logged out'): void {
    for (const [ws, owner] of this.#sockets) if (owner.session !== null && sessionHash(owner.session) === hash) ws.close(code, reason)
  }

  /** `logoutOthers()` in another process: close user `user`'s sockets except those of the session hashing to `keep`. */
  closeUserRemote(user: string | number | null, keep: string | null, code = CLOSE_POLICY, reason = 'logged out'): void {
    if (user === null) return
    for (const [ws, owner] of this.#sockets) {
      if (owner.user === user && (owner.session === null || sessionHash(owner.session) !== keep)) ws.close(code, reason)
    }
  }

  /** Server shutdown: 1001 to every socket, then wait for the closing handshakes (at most `closeTimeout`) and cut the rest. */
  async closeAll(): Promise<void> {
    this.closing = true
    if (this.#sockets.size === 0) return
    for (const ws of this.#sockets.keys()) ws.close(CLOSE_GOING_AWAY, 'server shutting down')
    const deadline = Date.now() + this.settings.closeTimeout
    while (this.#sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    for (const ws of this.#sockets.keys()) ws.raw.terminate()
  }
}

/** A session id as it may travel between processes: its SHA-256 (base64url), never the id itself. */
export function sessionHash(id: string): string {
  return lazyRequire<typeof import('node:crypto')>('node:crypto').createHash('sha256').update(id).digest('base64url')
}
