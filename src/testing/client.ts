/**
 * `carafe/testing`: a small in-process test client over `app.fetch`: no socket, no port,
 * the same dispatch path as a real request. Requests come from `127.0.0.1` (as from a
 * browser on this machine: the debug page shows in debug mode); pass `remoteAddress` to
 * play another client. Like a browser, it keeps the cookies responses set (a cookie jar)
 * and sends them back; redirects are not followed.
 *
 * @example
 * const client = testClient(app)
 * const res = await client.post('/api/users', { json: { name: 'Kim' } })
 * assert.equal(res.status, 201)
 * await client.loginAs(user)            // session() and auth() installed: no login form
 * assert.equal((await client.get('/profile')).status, 200)
 */
import type { CookieJar } from 'tough-cookie'
import type { CurrentUser } from '../core/battery.js'
import { CarafeError } from '../core/errors.js'
import { requirePeer } from '../util/peer.js'
import type { SessionPlugin } from '../session/session.js'
import type { StoreEnv } from '../session/store.js'

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

/** The client `testClient()` returns: one method per HTTP method, and its cookie jar. */
export interface TestClient {
  request(method: string, path: string, init?: TestRequestInit): Promise<Response>
  get(path: string, init?: TestRequestInit): Promise<Response>
  post(path: string, init?: TestRequestInit): Promise<Response>
  put(path: string, init?: TestRequestInit): Promise<Response>
  patch(path: string, init?: TestRequestInit): Promise<Response>
  delete(path: string, init?: TestRequestInit): Promise<Response>
  /** The cookies the jar would send to the origin's `/`, by name (`{}` with `cookies: false`). */
  readonly cookies: Record<string, string>
  /** The value of the cookie `name` the jar would send to `path`, or `undefined`. @default path '/' */
  cookie(name: string, path?: string): string | undefined
  /**
   * Be logged in as `user` without a login form: a new session made by `session()` holding
   * what `auth()` stores for the user, its cookie put in the jar. Needs a Carafe app with
   * `session()` and `auth()` installed, and the jar on.
   */
  loginAs(user: CurrentUser): Promise<void>
  /** Forget every cookie (the session itself is left to expire on the server; POST to your logout route to end it). */
  logout(): void
  /**
   * Open a WebSocket to `path` of a Carafe app (needs the `ws` package), with the jar's
   * cookies and the origin's host: the client starts a real server on 127.0.0.1, port 0, at
   * the first call, which {@link close} stops. Rejects with `ERR_WS_REFUSED` (and the HTTP
   * `status`) when the app answers instead of upgrading. No `Origin` is sent unless given.
   *
   * @example
   * const ws = await client.ws('/chat/1')
   * ws.send('hi')
   * assert.equal(await ws.next(), 'hi')
   * await client.close()
   */
  ws(path: string, options?: TestWebSocketOptions): Promise<TestWebSocket>
  /** Stop the server {@link ws} started (nothing to do without one). */
  close(): Promise<void>
}

/** Options of {@link TestClient.ws}. */
export interface TestWebSocketOptions {
  /** Extra request headers (a `cookie` given here replaces the jar's). */
  headers?: Record<string, string>
  /** An `Origin` header, as a browser sends. @default none */
  origin?: string
}

/** An open WebSocket of {@link TestClient.ws}: messages are queued from the start, so none is missed. */
export interface TestWebSocket {
  /** The `ws` WebSocket. */
  readonly raw: import('ws').WebSocket
  /** Send text, bytes, or any other value as JSON. */
  send(data: string | Uint8Array | Record<string, unknown> | unknown[]): void
  /** The next message: a string for a text frame, a Buffer for a binary one. */
  next(): Promise<string | Buffer>
  /** The next message, parsed as JSON. */
  nextJson<T = unknown>(): Promise<T>
  /** Resolves with the close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>
  /** Close (1000 by default) and wait until closed. */
  close(code?: number, reason?: string): Promise<{ code: number; reason: string }>
}

/** Options for {@link testClient} (a string is the `origin`). */
export interface TestClientOptions {
  /** Where requests go: the scheme decides HTTPS (`Secure` and `__Host-` cookies, `c.req.protocol`). @default 'http://localhost' */
  origin?: string
  /** Keep cookies from responses and send them back, as a browser does. @default true */
  cookies?: boolean
  /**
   * How a request is sent. By default in process, through `app.fetch(request, { remoteAddress })`;
   * pass the global `fetch` with `origin` set to a listening server's URL to go over real HTTP.
   * @default app.fetch
   */
  fetch?: (request: Request) => Response | Promise<Response>
}

/** What the client needs: a Fetch `fetch(request)`, which may take Carafe's `{ remoteAddress }` too. */
export interface TestTarget {
  fetch(request: Request, info?: { remoteAddress?: string }): Response | Promise<Response>
  /** A Carafe app's `app.plugin(name)`, for {@link TestClient.loginAs}; a plain Fetch handler has none. */
  plugin?(name: string): unknown
}

/** What `loginAs()` needs of `app.plugin('auth')`: the session data that logs `user` in. */
interface AuthPluginLike {
  sessionDataFor(user: CurrentUser, app: StoreEnv): Record<string, unknown> | Promise<Record<string, unknown>>
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

/**
 * Make a test client for anything with a Fetch `fetch(request)` (a Carafe app). The second
 * argument is the origin (`'https://localhost'`) or {@link TestClientOptions}.
 *
 * @example
 * const client = testClient(app, { origin: 'https://localhost' })
 * await client.post('/login', { form: { email, password } })
 * client.cookie('__Host-sid') // the session cookie the login set
 */
export function testClient(app: TestTarget, options: string | TestClientOptions = {}): TestClient {
  const opts = typeof options === 'string' ? { origin: options } : options
  const origin = new URL(opts.origin ?? 'http://localhost').origin
  const through = opts.fetch
  const send = through !== undefined ? (req: Request) => through(req) : (req: Request, remoteAddress: string) => app.fetch(req, { remoteAddress })
  const jar = opts.cookies === false ? null : new LazyJar()
  let server: Promise<{ port: number; close(): Promise<void> }> | null = null

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
    // A Cookie header given by the test is sent as is, instead of the jar's.
    if (jar !== null && !headers.has('cookie')) {
      const sent = (await jar.load()).getCookieStringSync(url.href)
      if (sent !== '') headers.set('cookie', sent)
    }
    const req = new Request(url, { redirect: 'manual', ...rest, method, headers, body: payload, duplex: 'half' } as RequestInit)
    const res = await send(req, remoteAddress ?? '127.0.0.1')
    if (jar !== null) {
      const j = await jar.load()
      // A cookie a browser would refuse (bad syntax, Secure over http, a broken __Host- prefix) is dropped, as it would be.
      for (const line of res.headers.getSetCookie()) j.setCookieSync(line, url.href, { ignoreError: true })
    }
    return res
  }

  return {
    request,
    get: (path, init) => request('GET', path, init),
    post: (path, init) => request('POST', path, init),
    put: (path, init) => request('PUT', path, init),
    patch: (path, init) => request('PATCH', path, init),
    delete: (path, init) => request('DELETE', path, init),
    get cookies() {
      return jar?.values(new URL('/', origin).href) ?? {}
    },
    cookie: (name, path = '/') => jar?.values(new URL(path, origin).href)[name],
    async loginAs(user) {
      if (jar === null) throw new CarafeError('ERR_NO_COOKIE_JAR', 'client.loginAs() puts the session cookie in the jar, which is off: make the client without { cookies: false }')
      if (typeof app.plugin !== 'function' || typeof (app as Partial<StoreEnv>).key !== 'function') {
        throw new CarafeError('ERR_NOT_AN_APP', 'client.loginAs() needs a Carafe app (testClient(app)), not a plain Fetch handler')
      }
      const s = app.plugin('session') as SessionPlugin | undefined
      if (typeof s?.createSession !== 'function') throw new CarafeError('ERR_NO_SESSION', "client.loginAs() needs sessions: app.use(session()) with session from 'carafe/session'")
      const a = app.plugin('auth') as AuthPluginLike | undefined
      if (typeof a?.sessionDataFor !== 'function') throw new CarafeError('ERR_NO_AUTH', "client.loginAs() needs auth: app.use(auth({ loadUser })) with auth from 'carafe/auth'")
      const https = origin.startsWith('https:')
      const { name, value } = await s.createSession(app as unknown as StoreEnv, await a.sessionDataFor(user, app as unknown as StoreEnv), https)
      const j = await jar.load()
      j.setCookieSync(`${name}=${value}; Path=/; HttpOnly; SameSite=Lax${https ? '; Secure' : ''}`, origin)
    },
    logout() {
      jar?.clear()
    },
    async ws(path, o = {}) {
      const listenable = app as { listen?: (options: object) => Promise<{ port: number; close(): Promise<void> }> }
      if (typeof listenable.listen !== 'function') throw new CarafeError('ERR_NOT_AN_APP', 'client.ws() needs a Carafe app (testClient(app)), not a plain Fetch handler')
      server ??= listenable.listen({ host: '127.0.0.1', port: 0 })
      const { port } = await server
      const url = new URL(path, origin)
      const headers: Record<string, string> = { host: url.host, ...o.headers }
      if (jar !== null && headers.cookie === undefined) {
        const sent = (await jar.load()).getCookieStringSync(url.href)
        if (sent !== '') headers.cookie = sent
      }
      return openTestSocket(`ws://127.0.0.1:${port}${url.pathname}${url.search}`, headers, o.origin)
    },
    async close() {
      const s = server
      server = null
      if (s !== null) await (await s).close()
    },
  }
}

/** Connect, queueing messages from the first frame (one sent in `open()` can come with the 101). */
function openTestSocket(target: string, headers: Record<string, string>, origin: string | undefined): Promise<TestWebSocket> {
  const { WebSocket } = requirePeer<typeof import('ws')>('ws', 'ws@^8.17.1', 'client.ws()')
  return new Promise((resolve, reject) => {
    const raw = new WebSocket(target, { headers, ...(origin === undefined ? {} : { origin }) })
    const inbox: Array<string | Buffer> = []
    const waiting: Array<(m: string | Buffer) => void> = []
    raw.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
      const m = isBinary ? buf : buf.toString('utf8')
      const w = waiting.shift()
      if (w !== undefined) w(m)
      else inbox.push(m)
    })
    const closed = new Promise<{ code: number; reason: string }>((done) => raw.once('close', (code, reason) => done({ code, reason: reason.toString('utf8') })))
    const next = (): Promise<string | Buffer> => {
      const first = inbox.shift()
      return first !== undefined ? Promise.resolve(first) : new Promise((r) => waiting.push(r))
    }
    raw.once('open', () => resolve({
      raw,
      send: (data) => raw.send(typeof data === 'string' || data instanceof Uint8Array ? data : JSON.stringify(data)),
      next,
      nextJson: async <T>() => JSON.parse(String(await next())) as T,
      closed,
      close(code = 1000, reason = '') {
        raw.close(code, reason)
        return closed
      },
    }))
    raw.once('unexpected-response', (_req, res) => {
      res.resume()
      reject(Object.assign(new CarafeError('ERR_WS_REFUSED', `the app answered ${res.statusCode} instead of upgrading ${target}`), { status: res.statusCode }))
    })
    raw.once('error', reject)
  })
}

/** A tough-cookie jar, imported on the first request so that loading `carafe/testing` stays cheap. */
class LazyJar {
  #jar: CookieJar | null = null

  async load(): Promise<CookieJar> {
    if (this.#jar === null) {
      const { CookieJar } = await import('tough-cookie')
      // Browser rules: Secure cookies only over https (localhost is no exception here, so
      // tests see what a deployed site does), and __Host-/__Secure- prefixes enforced.
      this.#jar ??= new CookieJar(undefined, { allowSecureOnLocal: false, prefixSecurity: 'silent', rejectPublicSuffixes: false })
    }
    return this.#jar
  }

  values(url: string): Record<string, string> {
    const out: Record<string, string> = {}
    // Most specific path first, as the Cookie header sends them; that one wins a repeated name.
    for (const c of this.#jar?.getCookiesSync(url) ?? []) if (!Object.hasOwn(out, c.key)) out[c.key] = c.value
    return out
  }

  clear(): void {
    this.#jar?.removeAllCookiesSync()
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

export { withRollback, rollbackAfter, beginRollback } from './db.js'
export type { AfterHook } from './db.js'
