import cluster, { type Worker } from 'node:cluster'
import { fork } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { bindServer } from './bind.js'

/** Settings of the `carafe start` supervisor. */
export interface SupervisorOptions {
  /** The app file the workers load. */
  file: string
  /** The script workers and the `onPrimary` child run (Carafe's CLI), with its arguments before the file. */
  exec: string
  host: string | undefined
  port: number
  /** Worker processes to keep running. */
  workers: number
  /** Seconds without a heartbeat before a worker counts as hung and is killed (gunicorn's `--timeout`). */
  timeout: number
  /** Seconds a draining worker gets to finish its requests (gunicorn's `--graceful-timeout`). */
  gracefulTimeout: number
  /** Recycle a worker after this many requests (0: never). */
  maxRequests: number
  /** Up to this many more requests, at random per worker, so workers do not all recycle at once. */
  maxRequestsJitter: number
  /** Extra environment for the workers. */
  env: Record<string, string>
  /** Print lifecycle lines (`[carafe] …`) to stderr. */
  log: (line: string) => void
  /** Called once the socket is bound, before any worker starts. */
  onListening?: (address: { host: string; port: number }) => void
}

/** Messages between the supervisor and its workers, over the cluster IPC channel. */
export type ToWorker = { carafe: 'conn' } | { carafe: 'drain' } | { carafe: 'pub'; topic: string; message: unknown }
export type FromWorker =
  | { carafe: 'ready'; url?: string }
  | { carafe: 'beat' }
  | { carafe: 'retire'; requests: number }
  | { carafe: 'fatal'; message: string }
  | { carafe: 'pub'; topic: string; message: unknown }

interface Slot {
  worker: Worker
  /** Its generation: a rolling reload starts a new one; workers of an older one are replaced. */
  generation: number
  ready: boolean
  draining: boolean
  /** Killed for missing heartbeats. */
  hung: boolean
  lastBeat: number
  startedAt: number
  /** The worker told us why it could not start. */
  fatal: string | undefined
  killTimer: NodeJS.Timeout | undefined
  /** Connections sent to it that it has not taken yet (the primary's copy is closed once it has). */
  sent: Set<Socket>
}

/** Longest a connection waits for a worker to take it (while none is up) before it is closed. */
const QUEUE_WAIT_MS = 30_000
const QUEUE_MAX = 4096

/**
 * The `carafe start` primary: owns the listening socket and hands each accepted connection
 * to a worker over IPC, so that a connection arriving while no worker is up (all crashed,
 * or between a reload's steps) waits in the queue instead of being refused, which is what
 * `node:cluster`'s own round-robin does once its last worker is gone. Workers are
 * `cluster.fork()`ed processes running the app; gunicorn's signals: TERM/INT drain and
 * exit, HUP rolling reload (each new worker is listening and ready before an old one drains),
 * TTIN/TTOU one worker more/less.
 *
 * Threat (availability): a worker that crashes at boot would be restarted in a tight loop;
 * rule: restarts back off (0.1 s doubling to 10 s), a worker that fails before it was ever
 * ready at first start stops the supervisor at once with its reason, and five boot failures
 * in a row later stop it too.
 */
export class Supervisor {
  readonly #o: SupervisorOptions
  readonly #slots = new Set<Slot>()
  readonly #queue: Array<{ socket: Socket; at: number }> = []
  #server: Server | null = null
  #target: number
  #generation = 0
  #rr = 0
  #stopping = false
  #everReady = false
  #bootFailures = 0
  #backoff = 100
  #restartTimer: NodeJS.Timeout | undefined
  #watchdog: NodeJS.Timeout | undefined
  #reloading: Promise<void> | null = null
  #exitCode = 0
  #doneResolve: ((code: number) => void) | undefined
  /** The address the socket is bound to, once it is. */
  address: { host: string; port: number } | undefined

  constructor(options: SupervisorOptions) {
    this.#o = options
    this.#target = Math.max(1, options.workers)
  }

  /** Bind, run the `onPrimary` hooks, start the workers; resolves with the exit code once the supervisor stops. */
  async start(): Promise<number> {
    const done = new Promise<number>((resolve) => { this.#doneResolve = resolve })
    await this.#bind()
    this.#o.onListening?.(this.address!)
    const hooks = await this.#runPrimaryHooks()
    if (!hooks.ok) {
      this.#o.log(`[carafe] the app's onPrimary hooks failed${hooks.reason}; not starting`)
      this.#server?.close()
      return 1
    }
    cluster.setupPrimary({ exec: this.#o.exec, args: ['__worker', this.#o.file], silent: false })
    cluster.on('message', (worker, message: FromWorker) => this.#onMessage(worker, message))
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal))
    for (let i = 0; i < this.#target; i++) this.#spawn()
    this.#watchdog = setInterval(() => this.#check(), 500)
    this.#watchdog.unref()
    process.on('SIGTERM', () => this.stop('SIGTERM'))
    process.on('SIGINT', () => this.stop('SIGINT'))
    process.on('SIGHUP', () => void this.reload())
    process.on('SIGTTIN', () => this.resize(this.#target + 1))
    process.on('SIGTTOU', () => this.resize(this.#target - 1))
    return done
  }

  /** Workers now running (ready or not), for tests and status lines. */
  get workers(): number {
    return this.#slots.size
  }

  async #bind(): Promise<void> {
    // Connections stay paused until a worker takes them: the worker's HTTP parser reads
    // the first byte, so nothing is lost in the hand-over.
    const server = createServer({ pauseOnConnect: true }, (socket) => this.#accept(socket))
    const host = await bindServer(server, this.#o.port, this.#o.host)
    const a = server.address()
    this.address = { host, port: typeof a === 'object' && a !== null ? a.port : this.#o.port }
    this.#server = server
    server.on('error', (err: NodeJS.ErrnoException) => this.#o.log(`[carafe] listening socket error: ${err.message}`))
  }

  #accept(socket: Socket): void {
    socket.on('error', () => {})
    if (!this.#handOff(socket)) {
      if (this.#queue.length >= QUEUE_MAX) return void socket.destroy()
      this.#queue.push({ socket, at: Date.now() })
    }
  }

  /** Give `socket` to the next ready worker (round robin); false when none is ready. */
  #handOff(socket: Socket): boolean {
    const ready = [...this.#slots].filter((s) => s.ready && !s.draining && !s.hung && s.worker.isConnected())
    if (ready.length === 0) return false
    const slot = ready[this.#rr++ % ready.length]!
    slot.sent.add(socket)
    socket.once('close', () => slot.sent.delete(socket))
    slot.worker.send({ carafe: 'conn' } satisfies ToWorker, socket, (err) => {
      // The worker went away between the choice and the send: try the next one.
      if (err !== null && !socket.destroyed) {
        slot.sent.delete(socket)
        this.#accept(socket)
      }
    })
    return true
  }

  #flushQueue(): void {
    while (this.#queue.length > 0) {
      const { socket } = this.#queue[0]!
      if (socket.destroyed) {
        this.#queue.shift()
        continue
      }
      if (!this.#handOff(socket)) return
      this.#queue.shift()
    }
  }

  #spawn(generation = this.#generation): Slot {
    const worker = cluster.fork({
      ...this.#o.env,
      CARAFE_WORKER: '1',
      CARAFE_WORKERS: String(this.#target),
      CARAFE_HEARTBEAT_MS: String(Math.max(100, Math.min(1000, this.#o.timeout * 250))),
      CARAFE_GRACEFUL_MS: String(this.#o.gracefulTimeout * 1000),
      CARAFE_MAX_REQUESTS: String(this.#o.maxRequests > 0 ? this.#o.maxRequests + Math.floor(Math.random() * (this.#o.maxRequestsJitter + 1)) : 0),
      CARAFE_BOUND_HOST: this.address?.host ?? '',
      CARAFE_BOUND_PORT: String(this.address?.port ?? this.#o.port),
    })
    const slot: Slot = { worker, generation, ready: false, draining: false, hung: false, lastBeat: Date.now(), startedAt: Date.now(), fatal: undefined, killTimer: undefined, sent: new Set() }
    this.#slots.add(slot)
    return slot
  }

  #slotOf(worker: Worker): Slot | undefined {
    for (const s of this.#slots) if (s.worker === worker) return s
    return undefined
  }

  #onMessage(worker: Worker, message: FromWorker): void {
    const slot = this.#slotOf(worker)
    if (slot === undefined || typeof message !== 'object' || message === null) return
    switch (message.carafe) {
      case 'beat':
        slot.lastBeat = Date.now()
        return
      case 'ready':
        slot.ready = true
        slot.lastBeat = Date.now()
        if (!this.#everReady) {
          this.#everReady = true
        }
        this.#bootFailures = 0
        this.#backoff = 100
        this.#o.log(`[carafe] worker ${worker.id} (pid ${worker.process.pid}) ready`)
        this.#flushQueue()
        this.#trim()
        return
      case 'retire':
        if (slot.draining || this.#stopping) return
        this.#o.log(`[carafe] worker ${worker.id} (pid ${worker.process.pid}) served ${message.requests} requests (--max-requests): replacing it`)
        this.#replace(slot)
        return
      case 'fatal':
        slot.fatal = message.message
        return
      case 'pub':
        // app.publish() in one worker: every other worker delivers it to its subscribers.
        for (const other of this.#slots) {
          if (other !== slot && other.ready && other.worker.isConnected()) other.worker.send({ carafe: 'pub', topic: message.topic, message: message.message } satisfies ToWorker, undefined, {}, () => {})
        }
        return
    }
  }

  /** Start a worker of the current generation in place of `old`, and drain `old` once it is ready. */
  #replace(old: Slot): Promise<boolean> {
    old.draining = true // no new connections for it from now on
    const fresh = this.#spawn()
    return this.#whenReady(fresh).then((ok) => {
      if (ok) this.#drain(old)
      else old.draining = false // keep serving with the old one
      return ok
    })
  }

  /** Resolves true once `slot` is ready, false if it exits first. */
  #whenReady(slot: Slot): Promise<boolean> {
    return new Promise((resolve) => {
      const onMessage = (message: FromWorker): void => {
        if (message?.carafe === 'ready') { cleanup(); resolve(true) }
      }
      const onExit = (): void => { cleanup(); resolve(false) }
      const cleanup = (): void => { slot.worker.off('message', onMessage); slot.worker.off('exit', onExit) }
      slot.worker.on('message', onMessage).on('exit', onExit)
    })
  }

  #drain(slot: Slot): void {
    if (slot.killTimer !== undefined) return
    slot.draining = true
    if (slot.worker.isConnected()) slot.worker.send({ carafe: 'drain' } satisfies ToWorker)
    else slot.worker.process.kill('SIGTERM')
    // The worker stops at its own deadline; this one only catches a worker that cannot.
    slot.killTimer = setTimeout(() => {
      this.#o.log(`[carafe] worker ${slot.worker.id} (pid ${slot.worker.process.pid}) did not stop within the graceful timeout: killed`)
      slot.worker.process.kill('SIGKILL')
    }, this.#o.gracefulTimeout * 1000 + 5000)
    slot.killTimer.unref()
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.#slotOf(worker)
    if (slot === undefined) return
    this.#slots.delete(slot)
    clearTimeout(slot.killTimer)
    // Connections sent to it that it never took (it died or hung first): nothing of them was
    // read, so another worker can serve them, or they wait for the next one.
    for (const socket of slot.sent) if (!socket.destroyed) this.#accept(socket)
    slot.sent.clear()
    if (this.#stopping) {
      if (this.#slots.size === 0) this.#finish()
      return
    }
    if (slot.draining) return this.#trim()
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`
    if (!slot.ready) {
      this.#bootFailures++
      const reason = slot.fatal !== undefined ? `: ${slot.fatal}` : ' (see the error above)'
      if (!this.#everReady && slot.generation === 0) {
        this.#o.log(`[carafe] worker ${worker.id} ${how} before it was ready${reason}`)
        this.#o.log('[carafe] the app failed to start; not retrying')
        return this.stop('boot', 1)
      }
      if (this.#bootFailures >= 5) {
        this.#o.log(`[carafe] worker ${worker.id} ${how} before it was ready${reason}`)
        this.#o.log(`[carafe] ${this.#bootFailures} workers in a row failed to start: stopping (fix the app, then start again)`)
        return this.stop('crash loop', 1)
      }
    }
    this.#o.log(`[carafe] worker ${worker.id} (pid ${worker.process.pid}) ${how}${slot.ready ? '' : ' before it was ready'}; restarting it in ${this.#backoff} ms`)
    this.#scheduleRestart()
  }

  #scheduleRestart(): void {
    if (this.#restartTimer !== undefined) return
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined
      this.#fill()
    }, this.#backoff)
    this.#backoff = Math.min(10_000, this.#backoff * 2)
  }

  /** Start workers until the target count of non-draining ones runs. */
  #fill(): void {
    if (this.#stopping) return
    let live = 0
    for (const s of this.#slots) if (!s.draining) live++
    for (; live < this.#target; live++) this.#spawn()
  }

  /** Drain workers beyond the target count (oldest first), once the rest are ready. */
  #trim(): void {
    if (this.#stopping || this.#reloading !== null) return
    const live = [...this.#slots].filter((s) => !s.draining)
    const excess = live.length - this.#target
    if (excess <= 0) return
    if (live.filter((s) => s.ready).length <= this.#target && live.some((s) => !s.ready)) return
    live.sort((a, b) => a.generation - b.generation || a.startedAt - b.startedAt)
    for (const s of live.slice(0, excess)) this.#drain(s)
  }

  /** Hung workers: no heartbeat within the timeout. Connections waiting too long: closed. */
  #check(): void {
    const now = Date.now()
    for (const s of this.#slots) {
      // A worker still loading its code has not started beating: give it the timeout too.
      if (!s.draining && now - s.lastBeat > this.#o.timeout * 1000) {
        this.#o.log(`[carafe] worker ${s.worker.id} (pid ${s.worker.process.pid}) sent no heartbeat for ${this.#o.timeout} s: killing it`)
        s.hung = true // no more connections for it
        s.worker.process.kill('SIGKILL')
        s.lastBeat = Infinity
      }
    }
    while (this.#queue.length > 0 && now - this.#queue[0]!.at > QUEUE_WAIT_MS) this.#queue.shift()!.socket.destroy()
  }

  /** TTIN/TTOU: run `n` workers (at least one). */
  resize(n: number): void {
    if (this.#stopping) return
    this.#target = Math.max(1, n)
    this.#o.log(`[carafe] workers: ${this.#target}`)
    this.#fill()
    this.#trim()
  }

  /**
   * HUP: run the `onPrimary` hooks of the new code, then replace the workers one at a time,
   * each new one listening and ready before an old one drains. A new worker that fails to
   * start stops the reload and leaves the old ones serving.
   */
  reload(): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    if (this.#reloading !== null) {
      this.#o.log('[carafe] a reload is already running')
      return this.#reloading
    }
    this.#reloading = (async () => {
      this.#o.log('[carafe] reloading')
      const hooks = await this.#runPrimaryHooks()
      if (!hooks.ok) {
        this.#o.log(`[carafe] reload abandoned: the new code's onPrimary hooks failed${hooks.reason}; the old workers keep serving`)
        return
      }
      const generation = ++this.#generation
      for (const old of [...this.#slots]) {
        if (this.#stopping) return
        if (old.draining || old.generation >= generation) continue
        const ok = await this.#replace(old)
        if (!ok) {
          this.#o.log('[carafe] reload abandoned: a new worker failed to start; the old workers keep serving')
          this.#generation--
          return
        }
      }
      this.#o.log('[carafe] reload done')
    })().finally(() => {
      this.#reloading = null
      this.#trim()
    })
    return this.#reloading
  }

  /** TERM/INT: stop accepting, let every worker drain, exit when they are gone. */
  stop(why: string, code = 0): void {
    if (this.#stopping) {
      if (why === 'SIGINT') {
        this.#o.log('[carafe] second interrupt: killing the workers')
        for (const s of this.#slots) s.worker.process.kill('SIGKILL')
      }
      return
    }
    this.#stopping = true
    this.#exitCode = code
    clearTimeout(this.#restartTimer)
    clearInterval(this.#watchdog)
    if (code === 0) this.#o.log(`[carafe] ${why}: draining ${this.#slots.size} worker${this.#slots.size === 1 ? '' : 's'}`)
    this.#server?.close()
    for (const { socket } of this.#queue.splice(0)) socket.destroy()
    for (const s of this.#slots) {
      if (s.ready) this.#drain(s)
      else s.worker.process.kill('SIGTERM')
    }
    if (this.#slots.size === 0) this.#finish()
  }

  #finish(): void {
    this.#doneResolve?.(this.#exitCode)
  }

  /** Run the app's `onPrimary` hooks in a short-lived child, so they see the code as it is now. */
  #runPrimaryHooks(): Promise<{ ok: boolean; reason: string }> {
    return new Promise((resolve) => {
      const child = fork(this.#o.exec, ['__primary', this.#o.file], { env: { ...process.env, ...this.#o.env }, stdio: 'inherit' })
      child.on('error', (e) => resolve({ ok: false, reason: `: ${e.message}` }))
      child.on('exit', (code, signal) => resolve(code === 0 ? { ok: true, reason: '' } : { ok: false, reason: signal !== null ? ` (killed by ${signal})` : ` (exit code ${code})` }))
    })
  }
}
