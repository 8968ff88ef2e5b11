import type { Carafe, ListenOptions } from '../../src/index.js'
import type { TestContext } from 'node:test'

/** A running server on 127.0.0.1 with a free port, closed when the test ends. */
export interface TestServer {
  url: string
  port: number
  close(): Promise<void>
}

/** Listen on 127.0.0.1:0 and close in `t.after()`. */
export async function serve(t: TestContext, app: Carafe, options: ListenOptions = {}): Promise<TestServer> {
  const s = await app.listen({ host: '127.0.0.1', port: 0, ...options })
  t.after(() => s.close())
  return { url: `http://127.0.0.1:${s.port}`, port: s.port, close: () => s.close() }
}

/** A door: a way to send a request to an app, as a `fetch`. */
export type Door = (app: Carafe, t: TestContext) => Promise<(path: string, init?: RequestInit) => Promise<Response>>

/** Both doors, for suites that must hold on each: the in-process Fetch door and real HTTP on loopback. */
export const DOORS: Record<'fetch' | 'node', Door> = {
  fetch: async (app) => (path, init) => app.request(path, init),
  node: async (app, t) => {
    const s = await serve(t, app)
    return (path, init) => fetch(s.url + path, { redirect: 'manual', ...init })
  },
}

/** Send raw bytes over TCP and return everything the server answers until it closes or `ms` pass. */
export async function rawRequest(port: number, data: string | Buffer, ms = 2000): Promise<string> {
  const net = await import('node:net')
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data))
    const timer = setTimeout(() => socket.destroy(), ms)
    socket.on('data', (c) => chunks.push(c))
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')) })
    socket.on('error', reject)
  })
}
