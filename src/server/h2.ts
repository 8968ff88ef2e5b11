import type { IncomingMessage } from 'node:http'
import type { ServerHttp2Stream } from 'node:http2'

// What the Node door does differently for an HTTP/2 request (an `Http2SecureServer`'s compat
// `Http2ServerRequest`, typed there as the `IncomingMessage` it mostly mirrors).

/** A header list's size as HTTP/2 counts it (RFC 9113 §6.5.2): each field's name and value plus 32. */
export function headerListSize(raw: string[]): number {
  let size = 0
  // The flat list holds name and value apart: 16 for each makes the 32 per field.
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length + 16
  return size
}

/**
 * The host of an HTTP/2 request: `:authority`, or a `Host` header when there is no
 * `:authority` (RFC 9113 §8.3.1); `null` for two `Host` headers or a `Host` that differs
 * from `:authority` (which a proxy in front may have read instead).
 */
export function h2Authority(raw: string[]): string | undefined | null {
  let authority: string | undefined
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!
    if (k === ':authority') authority = raw[i + 1]!
    else if (k === 'host') {
      if (host !== undefined) return null
      host = raw[i + 1]!
    }
  }
  if (authority !== undefined && host !== undefined && authority !== host) return null
  return authority ?? host
}

/**
 * The HTTP/2 side of `lingerAfter` (in node.ts): once the answer is sent, a stream whose upload was
 * refused is reset with NO_ERROR, which tells the client to stop sending and keep the
 * response (RFC 9113 §8.1). Only that stream ends; the connection stays. Without it the
 * client waits for flow-control window the paused body never gives back, for ever.
 */
export function resetAfter(req: IncomingMessage): void {
  const stream = (req as unknown as { stream?: ServerHttp2Stream }).stream
  // The stream's own 'finish' (its side is all written): the response's comes only once the stream closes.
  stream?.once('finish', () => {
    if (!req.complete && !stream.closed) stream.close(0 /* NGHTTP2_NO_ERROR */)
  })
}

/** Connection-specific headers: HTTP/1.1's, forbidden in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']

/**
 * Remove what a handler set for HTTP/1.1 (`Connection: close`, `Keep-Alive`) from an HTTP/2
 * answer, as a proxy translating to HTTP/2 does: Node throws on them, which would turn the
 * same app code into a 500 over HTTP/2 only.
 */
export function dropConnectionHeaders(headers: Record<string, unknown>): void {
  for (const name of CONNECTION_HEADERS) if (headers[name] !== undefined) delete headers[name]
  const te = headers.te
  if (te !== undefined && String(te).trim().toLowerCase() !== 'trailers') delete headers.te
}
