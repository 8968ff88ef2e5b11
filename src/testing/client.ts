/**
 * `carafe/testing`: a small in-process test client over `app.fetch`: no socket, no port,
 * the same dispatch path as a real request. Requests come from `127.0.0.1` (as from a
 * browser on this machine: the debug page shows in debug mode); pass `remoteAddress` to
 * play another client.
 *
 * @example
 * const client = testClient(app)
 * const res = await client.post('/api/users', { json: { name: 'Kim' } })
 * assert.equal(res.status, 201)
 */

/** A form or query value: repeated names take an array (`{ tag: ['a', 'b'] }`). */
export type TestFieldValue = string | number | boolean
/** A form field: a value, a file (a `Blob`/`File`, or {@link testFile}), or an array of them for a repeated name. */
export type TestFormValue = TestFieldValue | Blob | ReadonlyArray<TestFieldValue | Blob>

export interface TestRequestInit extends Omit<RequestInit, 'body'> {
  /** A body sent as JSON, with `Content-Type: application/json`. */
  json?: unknown
  /**
   * A form body: `application/x-www-form-urlencoded`, or `multipart/form-data` as soon as
   * one value is a file. Arrays repeat the name; a `FormData` or `URLSearchParams` is sent as is.
   */
  form?: Record<string, TestFormValue | undefined> | FormData | URLSearchParams
  /** Any other body. */
  body?: BodyInit | null
  /** Query parameters added to the path; arrays repeat the name (`{ tag: ['a', 'b'] }` gives `?tag=a&tag=b`). */
  query?: Record<string, TestFieldValue | ReadonlyArray<TestFieldValue> | undefined> | URLSearchParams
  /** The client address the app sees in `c.req.remoteAddress`. @default '127.0.0.1' */
  remoteAddress?: string
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

/** What the client needs: a Fetch `fetch(request)`, which may take Carafe's `{ remoteAddress }` too. */
export interface TestTarget {
  fetch(request: Request, info?: { remoteAddress?: string }): Response | Promise<Response>
}

/**
 * A file for a multipart form field.
 *
 * @example
 * await client.post('/upload', { form: { title: 'cat', photo: testFile('cat.png', bytes, 'image/png') } })
 */
export function testFile(name: string, content: string | Uint8Array | ArrayBuffer | Blob, type = 'application/octet-stream'): File {
  // A Buffer is a Uint8Array over an ArrayBufferLike, which the DOM typings refuse; File copies it either way.
  return new File([content as BlobPart], name, { type })
}

/** Make a test client for anything with a Fetch `fetch(request)` (a Carafe app). */
export function testClient(app: TestTarget, origin = 'http://localhost'): TestClient {
  const request = async (method: string, path: string, init: TestRequestInit = {}): Promise<Response> => {
    const { json, form, query, body, remoteAddress, ...rest } = init
    const url = new URL(path, origin)
    for (const [k, v] of entries(query)) url.searchParams.append(k, String(v))
    const headers = new Headers(rest.headers)
    let payload: BodyInit | null | undefined = body
    if (json !== undefined) {
      payload = JSON.stringify(json)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
    } else if (form !== undefined) {
      payload = formBody(form)
    }
    const req = new Request(url, { ...rest, method, headers, body: payload, duplex: 'half' } as RequestInit)
    return app.fetch(req, { remoteAddress: remoteAddress ?? '127.0.0.1' })
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

/** Name/value pairs of a form or query object, one pair per array item. */
function entries<V>(fields: Record<string, V | ReadonlyArray<V> | undefined> | URLSearchParams | undefined): Array<[string, V | string]> {
  if (fields === undefined) return []
  if (fields instanceof URLSearchParams) return [...fields]
  const out: Array<[string, V]> = []
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    if (Array.isArray(v)) for (const one of v as ReadonlyArray<V>) out.push([k, one])
    else out.push([k, v as V])
  }
  return out
}

/** A urlencoded body, or multipart (the boundary chosen by `Request`) when a value is a file. */
function formBody(form: NonNullable<TestRequestInit['form']>): FormData | URLSearchParams {
  if (form instanceof FormData || form instanceof URLSearchParams) return form
  const pairs = entries<TestFieldValue | Blob>(form)
  if (!pairs.some(([, v]) => v instanceof Blob)) return new URLSearchParams(pairs.map(([k, v]) => [k, String(v)]))
  const data = new FormData()
  for (const [k, v] of pairs) {
    if (v instanceof Blob) data.append(k, v, v instanceof File ? v.name : 'blob')
    else data.append(k, String(v))
  }
  return data
}
