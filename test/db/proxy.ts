import { createServer, connect, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on a free loopback port in front of a real service, to play an outage without
 * touching the service: `cut()` drops every connection and refuses new ones (the database is
 * down), `hang()` accepts connections and never answers (the network drops packets),
 * `restore()` forwards again on the same port.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | null = null
  #mode: 'forward' | 'hang' = 'forward'
  port = 0

  constructor(target: { host: string; port: number }) {
    this.#target = target
  }

  /** Listen (on a free port the first time, then on the same one). */
  async start(): Promise<void> {
    const server = createServer((client) => this.#accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as { port: number }).port
    this.#server = server
  }

  get url(): string {
    return `127.0.0.1:${this.port}`
  }

  #accept(client: Socket): void {
    this.#sockets.add(client)
    client.on('close', () => this.#sockets.delete(client))
    client.on('error', () => client.destroy())
    if (this.#mode === 'hang') return
    const upstream = connect(this.#target.port, this.#target.host)
    this.#sockets.add(upstream)
    upstream.on('close', () => { this.#sockets.delete(upstream); client.destroy() })
    upstream.on('error', () => upstream.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  }

  /** Drop every connection and stop listening: connecting is refused. */
  async cut(): Promise<void> {
    const server = this.#server
    this.#server = null
    for (const s of this.#sockets) s.destroy()
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Drop every connection, then accept new ones and never answer. */
  async hang(): Promise<void> {
    await this.cut()
    this.#mode = 'hang'
    await this.start()
  }

  /** Forward again, on the same port. */
  async restore(): Promise<void> {
    await this.cut()
    this.#mode = 'forward'
    await this.start()
  }
}
