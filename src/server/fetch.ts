import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { Context } from '../core/context.js'
import { CarafeRequest, bodyTooLarge, type RequestSettings } from '../core/request.js'
import type { Dispatcher } from '../core/dispatch.js'
import type { AppServices } from '../core/services.js'
import { copyResponseHeaders, exactLengthStream, isFramingHeader } from './framing.js'

/** Extra facts a host can pass to `app.fetch(request, info)`. */
export interface FetchInfo {
  /** The client's IP address, when the host knows it. */
  remoteAddress?: string
}

interface FetchApp extends AppServices {
  readonly requestSettings: RequestSettings
  dispatcher(): Dispatcher
}

const NO_PARAMS = Object.freeze({}) as Record<string, unknown>

/** The Fetch door: a `Request` becomes a context, goes through dispatch, and comes back a `Response`. */
export function createFetchHandler(app: FetchApp): (request: Request, info?: FetchInfo) => Promise<Response> {
  return async function carafeFetch(request, info) {
    const req = new FetchRequest(request, app.requestSettings, info)
    const c = new Context(app, req, NO_PARAMS)
    const pending = app.dispatcher().handle(c)
    if (pending !== undefined) await pending
    try {
      return toResponse(c, request.method === 'HEAD')
    } finally {
      // Temporary upload files go once the response is built: keep what you need with saveTo().
      if (req.hasCleanups) await req.runCleanups()
    }
  }
}

class FetchRequest extends CarafeRequest {
  readonly #request: Request
  readonly #remote: string | undefined
  readonly #host: string

  constructor(request: Request, settings: RequestSettings, info: FetchInfo | undefined) {
    // WHATWG has parsed the URL already (host checked, `..` and `%2e` segments resolved,
    // `\\` read as `/`); the path still goes through the same canonicalization as the Node
    // door's raw targets, so both doors decide on one form (router/canonical.ts).
    const url = request.url
    const hostStart = url.indexOf('//') + 2
    const start = url.indexOf('/', hostStart)
    // Request.url keeps the fragment (`#…`); it is never part of the path or the query.
    const hash = start < 0 ? -1 : url.indexOf('#', start)
    const end = hash < 0 ? url.length : hash
    const q0 = start < 0 ? -1 : url.indexOf('?', start)
    const q = q0 >= 0 && q0 < end ? q0 : -1
    const path = start < 0 ? '/' : url.slice(start, q < 0 ? end : q)
    super(request.method, path, q < 0 ? '' : url.slice(q + 1, end), settings)
    this.#request = request
    this.#host = url.slice(hostStart, start < 0 ? undefined : start)
    // Only an address the host passed counts: a URL's host name says nothing about who sent it.
    this.#remote = info?.remoteAddress
  }

  protected get hostHeader(): string | undefined {
    return this.#host === '' ? undefined : this.#host
  }

  header(name: string): string | undefined {
    return this.#request.headers.get(name) ?? undefined
  }

  headers(): Array<[string, string]> {
    return [...this.#request.headers]
  }

  get url(): string {
    return this.#request.url
  }

  get raw(): Request {
    return this.#request
  }

  get remoteAddress(): string | undefined {
    return this.#remote
  }

  protected get encrypted(): boolean {
    return this.#request.url.startsWith('https:')
  }

  protected bodyStream(): Readable {
    const body = this.#request.body
    return body === null ? Readable.from([]) : Readable.fromWeb(body as import('node:stream/web').ReadableStream)
  }

  protected async readBody(limit: number): Promise<Uint8Array> {
    const declared = Number(this.#request.headers.get('content-length') ?? NaN)
    if (declared > limit) throw bodyTooLarge(limit)
    const body = this.#request.body
    if (body === null) return new Uint8Array(0)
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > limit) throw bodyTooLarge(limit)
      chunks.push(chunk)
    }
    return Buffer.concat(chunks, size)
  }
}

/** Build the WHATWG `Response` for the response state on `c`. */
export function toResponse(c: Context<any>, head: boolean): Response {
  const body = c.responseBody
  const status = c.statusCode
  const headers = new Headers()
  if (body instanceof Response) return fromResponse(c, body, headers, head)
  if (c.contentType !== null) headers.set('content-type', c.contentType)
  const extra = c.responseHeaders
  if (extra !== null) {
    for (const k in extra) {
      const v = extra[k]!
      if (Array.isArray(v)) for (const one of v) headers.append(k, one)
      else headers.set(k, v)
    }
  }
  if (head || nullBodyStatus(status) || body === null) {
    if (typeof body === 'string' && head) headers.set('content-length', String(Buffer.byteLength(body)))
    else if (body instanceof Uint8Array && head && !headers.has('content-length')) headers.set('content-length', String(body.byteLength))
    return new Response(null, { status, headers })
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    if (!headers.has('content-length')) headers.set('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength))
    return new Response(body as BodyInit, { status, headers })
  }
  if (body instanceof ReadableStream) return new Response(body, { status, headers })
  if ('kind' in body && body.kind === 'file') return new Response(fileStream(body.path, body.start, body.end), { status, headers })
  return new Response(iterableToStream(body as AsyncIterable<Uint8Array | string>), { status, headers })
}

/** A `Response` a handler returned, framed by Carafe (see `framing.ts`): its end-to-end headers, then `c`'s. */
function fromResponse(c: Context<any>, response: Response, headers: Headers, head: boolean): Response {
  const length = copyResponseHeaders(response, (k, v) => headers.set(k, v))
  for (const v of response.headers.getSetCookie()) headers.append('set-cookie', v)
  if (c.contentType !== null) headers.set('content-type', c.contentType)
  const extra = c.responseHeaders
  if (extra !== null) {
    for (const k in extra) {
      if (isFramingHeader(k)) continue
      const v = extra[k]!
      if (Array.isArray(v)) for (const one of v) headers.append(k, one)
      else headers.set(k, v)
    }
  }
  const status = response.status
  let body: ReadableStream<Uint8Array> | null = response.body
  const empty = body === null || nullBodyStatus(status)
  if (length >= 0 && !empty) headers.set('content-length', String(length))
  if (head || empty) {
    // An unread body would hold the upstream connection it comes from.
    if (body !== null) body.cancel().catch(() => {})
    body = null
  } else if (length >= 0) body = body!.pipeThrough(exactLengthStream(length))
  return new Response(body, { status, statusText: response.statusText, headers })
}

function nullBodyStatus(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200)
}

/**
 * A file as a `ReadableStream` that opens the file on its first read, not before: a host
 * may hold a `Response` (a queued pipelined answer, one never sent) without a descriptor.
 * Cancelling it, or reading it to the end, closes the file.
 */
function fileStream(path: string, start: number, end: number): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Buffer> | null = null
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      it ??= createReadStream(path, { start, end, highWaterMark: 256 * 1024 })[Symbol.asyncIterator]()
      const { value, done } = await it.next()
      if (done === true) controller.close()
      else controller.enqueue(value as Buffer)
    },
    async cancel() {
      await it?.return?.()
    },
    // No read ahead: the first pull comes from the first read.
  }, { highWaterMark: 0 })
}

function iterableToStream(iterable: AsyncIterable<Uint8Array | string>): ReadableStream<Uint8Array> {
  const it = iterable[Symbol.asyncIterator]()
  const enc = new TextEncoder()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await it.next()
      if (done === true) controller.close()
      else controller.enqueue(typeof value === 'string' ? enc.encode(value) : value)
    },
    async cancel() {
      await it.return?.()
    },
  })
}
