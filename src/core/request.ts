import { HttpError } from './errors.js'
import { parseQuery } from '../util/query.js'
import { parseCookieHeader } from '../util/cookie.js'

/** Options that bound how much of a request body Carafe reads. */
export interface BodyLimits {
  /** Largest body `json()`, `text()`, `arrayBuffer()` and `bytes()` will read, in bytes. @default 1048576 */
  bodyLimit: number
}

/**
 * The incoming request, the same for both doors. Header names are case-insensitive; the
 * body is read once (with the size limit enforced while streaming) and cached, so
 * middleware and the handler can each call `json()`.
 */
export abstract class CarafeRequest {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string
  /** The raw path (percent-encoded, as sent), without the query. */
  readonly path: string
  /** The raw query string without `?` (empty when none). */
  readonly rawQuery: string
  #query: Map<string, string[]> | null = null
  #cookies: Map<string, string> | null = null
  #body: Promise<Uint8Array> | null = null
  #bodyLimit: number

  constructor(method: string, path: string, rawQuery: string, bodyLimit: number) {
    this.method = method
    this.path = path
    this.rawQuery = rawQuery
    this.#bodyLimit = bodyLimit
  }

  /** One request header (case-insensitive name), or `undefined`. */
  abstract header(name: string): string | undefined
  /** All request headers as lower-case name/value pairs. */
  abstract headers(): Array<[string, string]>
  /** The full URL, e.g. `http://localhost:8000/a?b=1`. */
  abstract get url(): string
  /** The WHATWG `Request`, built on first use on the Node door (it costs an allocation of many objects). */
  abstract get raw(): Request
  /** The client's address, when the door knows it. */
  abstract get remoteAddress(): string | undefined
  /** Read the whole body, stopping with 413 as soon as it passes `limit` bytes. */
  protected abstract readBody(limit: number): Promise<Uint8Array>

  /** The first value of a query parameter, or `undefined` (Flask's `request.args.get`). */
  query(name: string): string | undefined {
    return this.#queryMap().get(name)?.[0]
  }

  /** Every value of a repeated query parameter (`?tag=a&tag=b` gives `['a', 'b']`). */
  queries(name: string): string[] {
    return this.#queryMap().get(name)?.slice() ?? []
  }

  /** All query parameters, first value of each, in an object with no prototype. */
  queryObject(): Record<string, string> {
    const out = Object.create(null) as Record<string, string>
    for (const [k, v] of this.#queryMap()) out[k] = v[0]!
    return out
  }

  /** A request cookie by name, or `undefined`. */
  cookie(name: string): string | undefined {
    this.#cookies ??= parseCookieHeader(this.header('cookie'))
    return this.#cookies.get(name)
  }

  /** The body as bytes (read once, then cached). */
  async bytes(): Promise<Uint8Array> {
    this.#body ??= this.method === 'GET' || this.method === 'HEAD' ? Promise.resolve(new Uint8Array(0)) : this.readBody(this.#bodyLimit)
    return this.#body
  }

  /** The body as an `ArrayBuffer` (a copy). */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes()
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }

  /** The body decoded as UTF-8 text. */
  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8')
  }

  /**
   * The body parsed as JSON. An empty body is a 400 ("expected a JSON body"), malformed JSON
   * is a 400 naming the parse error; neither is ever a 500.
   */
  async json<T = unknown>(): Promise<T> {
    const text = await this.text()
    if (text.trim() === '') throw new HttpError(400, 'expected a JSON body, but the request body is empty', { code: 'ERR_EMPTY_BODY' })
    try {
      return JSON.parse(text, dropProtoKeys) as T
    } catch (e) {
      throw new HttpError(400, `malformed JSON in the request body: ${(e as Error).message}`, { code: 'ERR_BAD_JSON', cause: e })
    }
  }

  /** Change the body limit for this request (for a route that takes big bodies). */
  setBodyLimit(bytes: number): void {
    this.#bodyLimit = bytes
  }

  #queryMap(): Map<string, string[]> {
    this.#query ??= parseQuery(this.rawQuery)
    return this.#query
  }
}

/** JSON.parse reviver that drops `__proto__` keys so a parsed body can never pollute prototypes. */
function dropProtoKeys(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value
}

/** Error for a body over its limit; the doors also use it while streaming. */
export function bodyTooLarge(limit: number): HttpError {
  return new HttpError(413, `the request body is larger than the limit of ${limit} bytes`, { code: 'ERR_BODY_TOO_LARGE' })
}
