import { readdirSync } from 'node:fs'
import { WebSocket, type ClientOptions } from 'ws'

/** A `ws` client that resolves once open, or rejects with the HTTP status the server answered instead. */
export function connect(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options)
    // A message sent in open() can arrive in the same read as the 101, before the caller listens.
    const inbox: string[] = []
    const waiting: Array<(m: string) => void> = []
    ws.on('message', (d) => {
      const w = waiting.shift()
      if (w !== undefined) w(String(d))
      else inbox.push(String(d))
    })
    QUEUES.set(ws, { inbox, waiting })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body })))
    })
    ws.once('error', reject)
  })
}

/** The next message, as text. */
export function nextMessage(ws: WebSocket): Promise<string> {
  const q = QUEUES.get(ws)!
  const first = q.inbox.shift()
  if (first !== undefined) return Promise.resolve(first)
  return new Promise((resolve) => q.waiting.push(resolve))
}

const QUEUES = new WeakMap<WebSocket, { inbox: string[]; waiting: Array<(m: string) => void> }>()

/** The close code and reason the client saw. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
}

/** The status a refused upgrade got. */
export async function refusedWith(url: string, options: ClientOptions = {}): Promise<number> {
  try {
    const ws = await connect(url, options)
    ws.terminate()
    return 101
  } catch (e) {
    return (e as { status?: number }).status ?? -1
  }
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length
}

/** Wait until `check()` is true (polling), or fail after `ms`. */
export async function until(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A masked client text frame (RFC 6455 §5.2) with `payload` as is: lets a test send bytes that are not UTF-8. */
export function textFrame(payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4])
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked])
}
