import type { Socket } from 'node:net'
import type { Carafe } from '../core/app.js'
import type { FromWorker, ToWorker } from './supervisor.js'
import type { CarafeServer, RunOptions } from './serve.js'

/** True in a worker process of `carafe start`. */
export function isWorker(): boolean {
  return process.env.CARAFE_WORKER === '1' && typeof process.send === 'function'
}

function send(message: FromWorker): void {
  if (process.connected) process.send!(message, undefined, {}, () => {})
}

let beat: NodeJS.Timeout | undefined

/**
 * Start the heartbeat: one message a period, from the event loop, so a worker stuck in a
 * loop (or blocked by synchronous work longer than the supervisor's timeout) stops
 * beating and is replaced. Started before the app's code loads, which may take a while.
 */
export function startHeartbeat(): void {
  if (beat !== undefined) return
  const period = Number(process.env.CARAFE_HEARTBEAT_MS ?? 1000)
  beat = setInterval(() => send({ carafe: 'beat' }), period)
  beat.unref()
  // The supervisor is gone (killed without passing a signal on): do not outlive it.
  process.once('disconnect', () => process.exit(0))
}

/** Tell the supervisor the app cannot start, and why (it prints the reason and does not retry). */
export function reportFatal(message: string): void {
  send({ carafe: 'fatal', message })
}

/**
 * Serve `app` in a `carafe start` worker: the supervisor owns the listening socket and sends
 * each accepted connection here; `drain` (or SIGTERM) stops this worker gracefully: every
 * request in flight finishes and is answered with `Connection: close`, idle keep-alive
 * connections stay open until the graceful deadline (a proxy in front may be just sending a
 * request on one), and the process exits 0 once no connection is left.
 */
export async function serveAsWorker(app: Carafe, options: RunOptions, listen: (app: Carafe, o: RunOptions & { external: true }) => Promise<CarafeServer>): Promise<CarafeServer> {
  const graceful = Number(process.env.CARAFE_GRACEFUL_MS ?? 30_000)
  const server = await listen(app, { ...options, external: true, shutdownTimeout: graceful })
  const maxRequests = Number(process.env.CARAFE_MAX_REQUESTS ?? 0)
  if (maxRequests > 0) {
    let served = 0
    const count = (): void => {
      if (++served === maxRequests) {
        server.server.off('request', count)
        send({ carafe: 'retire', requests: served })
      }
    }
    server.server.on('request', count)
  }
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    server.close().then(() => process.exit(0), (e: unknown) => {
      console.error('carafe: error during shutdown:', e)
      process.exit(1)
    })
  }
  process.on('message', (message: ToWorker, handle: unknown) => {
    if (typeof message !== 'object' || message === null) return
    if (message.carafe === 'conn' && handle !== undefined) {
      const socket = handle as Socket
      // A connection handed over after the drain began has nowhere else to go (the supervisor
      // chose this worker a moment ago): it is served and closed like the others.
      server.server.emit('connection', socket)
      socket.resume()
    } else if (message.carafe === 'drain') stop()
  })
  // The supervisor signals the process group on Ctrl+C: drain on the supervisor's word only.
  process.on('SIGINT', () => {})
  process.on('SIGTERM', stop)
  send({ carafe: 'ready', url: server.url })
  return server
}
