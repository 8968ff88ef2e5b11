/** Reason phrases for the statuses Carafe itself produces (RFC 9110 §15). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict',
  410: 'Gone', 418: "I'm a Teapot", 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable',
  422: 'Unprocessable Content', 426: 'Upgrade Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
}

/** Options for {@link HttpError}. */
export interface HttpErrorOptions {
  /** Extra response headers (e.g. `Allow` on a 405). @default {} */
  headers?: Record<string, string>
  /** The underlying error, kept for logs and the debug page. @default undefined */
  cause?: unknown
  /** A stable machine-readable code, e.g. `ERR_BODY_TOO_LARGE`. @default undefined */
  code?: string
}

/**
 * An error that becomes an HTTP response with its status and message.
 *
 * @example
 * app.get('/admin', () => { throw new HttpError(403, 'admins only') })
 */
export class HttpError extends Error {
  readonly status: number
  readonly headers: Record<string, string>
  readonly code: string | undefined

  constructor(status: number, message?: string, options: HttpErrorOptions = {}) {
    super(message ?? STATUS_TEXT[status] ?? 'Error', { cause: options.cause })
    this.name = 'HttpError'
    this.status = status
    this.headers = options.headers ?? {}
    this.code = options.code
  }
}

/** An error in how the app was put together (bad pattern, route conflict): a bug to fix, not a 4xx. */
export class CarafeError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'CarafeError'
    this.code = code
  }
}

/** True for values that behave like an {@link HttpError}, even from another copy of Carafe. */
export function isHttpError(e: unknown): e is HttpError {
  return e instanceof HttpError ||
    (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'HttpError' &&
      typeof (e as { status?: unknown }).status === 'number')
}
