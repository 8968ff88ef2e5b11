import type { TestContext } from 'node:test'
import { Carafe, type CarafeOptions } from '../../src/index.js'
import { session, memoryStore, type SessionOptions, type SessionStore, type SessionPatch, type StoredSession } from '../../src/session/index.js'
import { auth, type AuthOptions } from '../../src/auth/index.js'
import { serve } from '../helpers/server.js'

export const SECRET = 'auth-tests-secret-0123456789abcdef0123456789'
export const OLD_SECRET = 'auth-tests-old-secret-0123456789abcdef012345'

/** The users of these tests (CurrentUser is not augmented here, so handlers cast to this). */
export interface User {
  id: number
  email: string
  passwordHash: string
  roles: string[]
}

export { Jar } from '../helpers/jar.js'
import { Jar } from '../helpers/jar.js'

/** A client with its own jar against a server URL. */
export interface Browser {
  jar: Jar
  send(path: string, init?: RequestInit): Promise<Response>
  post(path: string, init?: RequestInit): Promise<Response>
  /** `GET path` answered as JSON, with `Accept: application/json`. */
  json(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }>
}

export function browser(url: string, jar = new Jar()): Browser {
  const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers)
    if (jar.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', jar.header())
    const res = await fetch(url + path, { redirect: 'manual', ...init, headers })
    jar.take(res)
    return res
  }
  return {
    jar,
    send,
    post: (path, init = {}) => send(path, { method: 'POST', ...init }),
    async json(path, init = {}) {
      const headers = new Headers(init.headers)
      if (!headers.has('accept')) headers.set('accept', 'application/json')
      const res = await send(path, { ...init, headers })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    },
  }
}

export interface Started {
  app: Carafe
  url: string
  users: Map<number, User>
  /** Every id loadUser was called with, in order. */
  loads: unknown[]
  store: SessionStore
  browser(jar?: Jar): Browser
}

export interface StartOptions {
  auth?: Partial<AuthOptions>
  session?: SessionOptions
  secrets?: string[]
  /** Other options for `new Carafe()`. */
  app?: CarafeOptions
  users?: User[]
  setup?: (app: Carafe, s: Omit<Started, 'url' | 'browser'>) => void
}

/**
 * An app with session() and auth() and a few routes: POST /login/<id> (?remember=1),
 * POST /logout, GET /me (the user id or null), POST /password/<id> (a new hash, then
 * logoutOthers unless ?others=0), POST /cart/<n> (anonymous session data).
 */
export async function start(t: TestContext, options: StartOptions = {}): Promise<Started> {
  const users = new Map<number, User>((options.users ?? []).map((u) => [u.id, u]))
  const loads: unknown[] = []
  const store = options.session?.store ?? memoryStore()
  const app = new Carafe({ ...options.app, secrets: options.secrets ?? [SECRET] })
  app.use(session({ ...options.session, store }))
  app.use(auth({
    loadUser: (id) => {
      loads.push(id)
      return typeof id === 'number' ? users.get(id) : undefined
    },
    roles: (u) => (u as User).roles,
    ...options.auth,
  }))
  app.post('/login/<int:id>', async (c) => {
    const user = users.get(c.params.id)
    if (user === undefined) return c.text('no such user', 404)
    await c.login(user, { remember: c.query('remember') === '1' })
    return { ok: true }
  })
  app.post('/logout', async (c) => { await c.logout(); return { ok: true } })
  app.get('/me', (c) => ({ user: (c.user as User | null)?.id ?? null, cart: c.session.get('cart') ?? null }))
  app.post('/cart/<int:n>', (c) => { c.session.set('cart', c.params.n); return { ok: true } })
  app.post('/password/<int:id>', async (c) => {
    const user = users.get(c.params.id)!
    // A new hash (any string that differs: this test does not need argon2 here).
    users.set(user.id, { ...user, passwordHash: `${user.passwordHash}x` })
    if (c.query('others') !== '0') await c.logoutOthers()
    return { ok: true }
  })
  options.setup?.(app, { app, users, loads, store })
  const s = await serve(t, app)
  return { app, url: s.url, users, loads, store, browser: (jar) => browser(s.url, jar) }
}

/** A user with a made-up (not argon2) hash: the session version only needs a string that changes. */
export function user(id: number, roles: string[] = []): User {
  return { id, email: `user${id}@example.com`, passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$fake${id}$hash`, roles }
}

/** Move this process's clock (`Date.now`) forward by `ms` while `fn` runs: stores, sessions and tokens all read it. */
export async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now
  Date.now = () => real() + ms
  try {
    return await fn()
  } finally {
    Date.now = real
  }
}

/**
 * A stateless store as `cookieStore()` behaves (the session lives in the cookie, `apply`
 * returns the new cookie value), unencrypted: enough to run auth's stateless fallbacks.
 */
export function fakeCookieStore(): SessionStore {
  const decode = (id: string): StoredSession | undefined => {
    try {
      const v = JSON.parse(Buffer.from(id, 'base64url').toString()) as StoredSession
      return v.expires > Date.now() ? v : undefined
    } catch {
      return undefined
    }
  }
  return {
    kind: 'fake-cookie',
    stateless: true,
    async get(id) { return decode(id) },
    async apply(id: string, patch: SessionPatch, ttl: number) {
      const old = id === '' ? undefined : decode(id)
      const data = { ...old?.data }
      for (const k of patch.delete ?? []) delete data[k]
      Object.assign(data, patch.set)
      return Buffer.from(JSON.stringify({ data, expires: Date.now() + ttl * 1000 })).toString('base64url')
    },
    async destroy() {},
    async touch(id: string, ttl: number) {
      const old = decode(id)
      return old === undefined ? undefined : Buffer.from(JSON.stringify({ data: old.data, expires: Date.now() + ttl * 1000 })).toString('base64url')
    },
  }
}
