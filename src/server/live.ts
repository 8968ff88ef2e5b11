import type { Carafe, Plugin } from '../core/app.js'
import type { Context } from '../core/context.js'

/** Where the page's script and its event stream live. */
export const LIVE_SCRIPT = '/__carafe/live.js'
export const LIVE_EVENTS = '/__carafe/live'
const TAG = `<script src="${LIVE_SCRIPT}"></script>`
const TAG_BYTES = Buffer.from(TAG)
/** How a whole HTML document starts (after any BOM, whitespace or comments): a doctype, `<html>`, `<head>` or `<body>`. */
const DOCUMENT = /^(?:\uFEFF|\xEF\xBB\xBF)?(?:\s|<!--[^]*?-->)*<(?:!doctype\s+html|html|head|body)[\s>]/i

/**
 * The browser side: an EventSource on {@link LIVE_EVENTS}. `hello` carries the server's boot
 * id (a restarted `carafe run --reload` child has a new one: the page reloads once it is back),
 * `reload` reloads, `css` swaps the page's stylesheets from this origin that match the path
 * (a fresh query string), reloading when none does.
 */
const CLIENT = `// Carafe live reload (development only: carafe serve --live, carafe run --reload)
(() => {
  let boot = null
  const es = new EventSource(${JSON.stringify(LIVE_EVENTS)})
  es.addEventListener('hello', (e) => {
    if (boot !== null && boot !== e.data) location.reload()
    boot = e.data
    window.__carafeLive = boot // connected (tests wait for it)
  })
  es.addEventListener('reload', () => location.reload())
  es.addEventListener('css', (e) => {
    let swapped = false
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href, location.href)
      if (url.origin !== location.origin || decodeURIComponent(url.pathname) !== e.data) continue
      url.searchParams.set('_live', String(Date.now()))
      link.href = url.href
      swapped = true
    }
    if (!swapped) location.reload()
  })
})()
`

/** What {@link liveReload} gives: the plugin to `app.use()`, and `changed(urlPath)` to call when a file changes. */
export interface LiveReload {
  readonly plugin: Plugin
  /** A file changed: `/styles/site.css` swaps stylesheets, anything else (or no path) reloads. */
  changed(urlPath?: string): void
  /** Open event streams (for tests). */
  readonly clients: number
  /** End every stream (the server is shutting down). */
  close(): void
}

/**
 * Live reload for development: HTML pages get a `<script src="/__carafe/live.js">` tag
 * (before `</body>`, else at the end; `Content-Length` follows, and the `ETag` gets a
 * `-live` suffix so a cached page without the tag is never taken for one with it), and the
 * script listens on a Server-Sent Events stream. Only HTML: other responses pass untouched.
 * The script is same-origin, so `secureHeaders()`' default CSP (`script-src 'self'`) allows it.
 */
export function liveReload(options: { heartbeat?: number } = {}): LiveReload {
  const boot = `${process.pid}-${Date.now().toString(36)}`
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>()
  const encoder = new TextEncoder()
  const send = (text: string): void => {
    const bytes = encoder.encode(text)
    for (const s of streams) {
      try {
        s.enqueue(bytes)
      } catch {
        streams.delete(s)
      }
    }
  }
  const heartbeat = setInterval(() => send(': ping\n\n'), options.heartbeat ?? 15_000)
  heartbeat.unref()

  const events = (c: Context<any>): void => {
    let mine: ReadableStreamDefaultController<Uint8Array> | null = null
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        mine = controller
        streams.add(controller)
        controller.enqueue(encoder.encode(`retry: 500\nevent: hello\ndata: ${boot}\n\n`))
      },
      // The browser left (or the server closes): forget the stream.
      cancel() {
        if (mine !== null) streams.delete(mine)
      },
    })
    c.header('cache-control', 'no-cache')
    c.header('x-accel-buffering', 'no')
    c.body(body, 200, 'text/event-stream; charset=utf-8')
  }

  const plugin: Plugin = {
    name: 'live-reload',
    install(app: Carafe, prefix: string) {
      // Streams never end by themselves: close them as the drain begins, not at its deadline.
      app.onDraining(() => live.close())
      app.get(`${prefix}${LIVE_SCRIPT}`, (c) => {
        c.header('cache-control', 'no-cache')
        return c.body(CLIENT, 200, 'text/javascript; charset=utf-8')
      })
      app.get(`${prefix}${LIVE_EVENTS}`, events)
    },
    async middleware(c, next) {
      await next()
      inject(c)
    },
    shutdown() {
      live.close()
    },
  }
  const live: LiveReload = {
    plugin,
    changed(urlPath) {
      if (urlPath !== undefined && /\.css$/i.test(urlPath)) send(`event: css\ndata: ${urlPath}\n\n`)
      else send('event: reload\ndata: \n\n')
    },
    get clients() {
      return streams.size
    },
    close() {
      clearInterval(heartbeat)
      for (const s of streams) {
        try { s.close() } catch { /* already closed */ }
      }
      streams.clear()
    },
  }
  return live
}

/** Add the script tag to a whole HTML document on `c` (200, in memory); leave everything else (fragments too) alone. */
function inject(c: Context<any>): void {
  if (c.statusCode !== 200) return
  const type = c.contentType
  if (type === null || !/^text\/html\b/i.test(type)) return
  const body = c.responseBody
  let html: Buffer
  if (typeof body === 'string') html = Buffer.from(body)
  else if (body instanceof Uint8Array) html = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  else return // streamed (a big file, a stream): left as is
  // Whole documents only: a fragment (an htmx partial, a bare string) is not a page to reload.
  if (!DOCUMENT.test(html.subarray(0, 1024).toString('latin1'))) return
  const headers = c.responseHeaders
  // A compressed body cannot take a tag (live mode serves files uncompressed).
  if (headers?.['content-encoding'] !== undefined) return
  const at = html.lastIndexOf('</body>') >= 0 ? html.lastIndexOf('</body>') : html.lastIndexOf('</BODY>')
  const out = at < 0 ? Buffer.concat([html, TAG_BYTES]) : Buffer.concat([html.subarray(0, at), TAG_BYTES, html.subarray(at)])
  const etag = headers?.etag
  if (typeof etag === 'string') c.header('etag', etag.endsWith('"') ? `${etag.slice(0, -1)}-live"` : `${etag}-live`)
  if (headers?.['content-length'] !== undefined) c.header('content-length', out.byteLength)
  c.header('cache-control', 'no-cache')
  c.body(out, 200, type)
}
