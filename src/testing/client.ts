/**
 * `carafe/testing`: a small in-process test client over `app.fetch`: no socket, no port,
 * the same dispatch path as a real request.
 *
 * @example
 * const client = testClient(app)
 * const res = await client.post('/api/users', { json: { name: 'Kim' } })
 * assert.equal(res.status, 201)
 */
export interface TestRequestInit extends Omit<RequestInit, 'body'> {
  /** A body sent as JSON, with `Content-Type: application/json`. */
  json?: unknown
  /** A body sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>
  /** Any other body. */
  body?: BodyInit | null
  /** Query parameters added to the path. */
  query?: Record<string, string | number>
}

/** The client `testClient()` returns: one method per HTTP method. */
export interface TestClient {
  request(method: string, path: string, init?: TestRequestInit): Promise<Response>
  get(path: string, init?: TestRequestInit): Promise<Response>
  post(path: string, init?: TestRequestInit): Promise<Response>
  put(path: string, init?: TestRequestInit): Promise<Response>
  patch(path: string, init?: TestRequestInit): Promise<Response>
  delete(path: string, init?: TestRequestInit): Promise<Response>
}

/** Make a test client for anything with a Fetch `fetch(request)` (a Carafe app). */
export function testClient(app: { fetch(request: Request): Promise<Response> }, origin = 'http://localhost'): TestClient {
  const request = (method: string, path: string, init: TestRequestInit = {}): Promise<Response> => {
    const { json, form, query, body, ...rest } = init
    const url = new URL(path, origin)
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.append(k, String(v))
    const headers = new Headers(rest.headers)
    let payload: BodyInit | null | undefined = body
    if (json !== undefined) {
      payload = JSON.stringify(json)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
    } else if (form !== undefined) {
      payload = new URLSearchParams(form)
    }
    return app.fetch(new Request(url, { ...rest, method, headers, body: payload, duplex: 'half' } as RequestInit))
  }
  return {
    request,
    get: (path, init) => request('GET', path, init),
    post: (path, init) => request('POST', path, init),
    put: (path, init) => request('PUT', path, init),
    patch: (path, init) => request('PATCH', path, init),
    delete: (path, init) => request('DELETE', path, init),
  }
}
