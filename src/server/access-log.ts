import { writeSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import type { CarafeRequest } from '../core/request.js'

/**
 * Access-log formats: `default` is Python http.server's (`::1 - - [24/Feb/2023 11:05:19]
 * "GET / HTTP/1.1" 200 -`), `common` and `combined` are Apache's, `json` is one object a line.
 */
export type AccessLogFormat = 'default' | 'common' | 'combined' | 'json'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const FLUSH_AT = 64 * 1024

/**
 * A buffered access log: lines collect in memory and go out in one write per event-loop
 * turn (or every 64 KiB), because a write per request to a pipe is a syscall per request.
 * The buffer is flushed synchronously when the process exits.
 */
export class AccessLog {
  readonly format: AccessLogFormat
  readonly #fd: number
  #buffer = ''
  #scheduled = false
  #second = -1
  #stamp = ''

  constructor(format: AccessLogFormat = 'default', fd = 1) {
    this.format = format
    this.#fd = fd
    process.on('exit', () => this.flush())
  }

  /**
   * Log one request. `size`: bytes sent, -1 to measure `body`, -2 for unknown. `r`, the
   * request as the app saw it, gives the client address behind trusted proxies (`c.req.ip`,
   * so a client's own `X-Forwarded-For` is never shown) and, for `json`, the request id
   * (made now if nothing read it). The socket's address is forgotten on close unless it was
   * read while open: the server reads it on connection when logging (see `listen`).
   */
  write(req: IncomingMessage, status: number, size: number, body: string | Uint8Array | null, r?: CarafeRequest): void {
    const bytes = size === -1 ? (typeof body === 'string' ? Buffer.byteLength(body) : 0) : size
    // Only the formats that print them pay for building the request's headers object.
    const wide = this.format === 'combined' || this.format === 'json'
    // Without trusted proxies the socket's peer is the client: no need to ask the request.
    const addr = r !== undefined && r.settings.trust !== null ? r.ip : req.socket.remoteAddress
    this.line(addr ?? '-', req.method ?? '-', req.url ?? '-', req.httpVersion, status, bytes,
      wide ? req.headers.referer : undefined, wide ? req.headers['user-agent'] : undefined,
      r !== undefined && this.format === 'json' ? r.requestId : undefined)
  }

  /** Log one request from its parts (for requests that never became a context). */
  line(addr: string, method: string, url: string, version: string, status: number, bytes: number, referer?: string, agent?: string, requestId?: string): void {
    const now = Date.now()
    let text: string
    switch (this.format) {
      case 'json':
        text = JSON.stringify({ time: new Date(now).toISOString(), remote: addr, method, url, version, status, bytes: bytes >= 0 ? bytes : null, referer, agent, requestId })
        break
      case 'common':
      case 'combined': {
        text = `${addr} - - [${this.#time(now, true)}] "${clean(method)} ${clean(url)} HTTP/${version}" ${status} ${bytes >= 0 ? bytes : '-'}`
        if (this.format === 'combined') text += ` "${clean(referer ?? '-')}" "${clean(agent ?? '-')}"`
        break
      }
      default:
        text = `${addr} - - [${this.#time(now, false)}] "${clean(method)} ${clean(url)} HTTP/${version}" ${status} -`
    }
    this.#buffer += `${text}\n`
    if (this.#buffer.length >= FLUSH_AT) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Write out buffered lines now. */
  flush(): void {
    this.#scheduled = false
    if (this.#buffer === '') return
    const out = this.#buffer
    this.#buffer = ''
    try {
      writeSync(this.#fd, out)
    } catch {
      // stdout closed (e.g. piped into `head`): drop the log rather than the server.
    }
  }

  /** The timestamp, formatted once per second (local time, as Python and Apache print it). */
  #time(now: number, apache: boolean): string {
    const second = Math.floor(now / 1000)
    if (second !== this.#second) {
      const d = new Date(now)
      const date = `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}`
      const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
      if (apache) {
        const off = -d.getTimezoneOffset()
        const sign = off >= 0 ? '+' : '-'
        this.#stamp = `${date}:${time} ${sign}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`
      } else this.#stamp = `${date} ${time}`
      this.#second = second
    }
    return this.#stamp
  }
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** Keep log lines one line each: escape control characters and quotes from client input. */
function clean(s: string): string {
  return /[\x00-\x1f\x7f"\\]/.test(s) ? JSON.stringify(s).slice(1, -1) : s
}
