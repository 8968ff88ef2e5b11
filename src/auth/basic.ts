import type { AuthHandle, CurrentUser, LoginOptions } from '../core/battery.js'
import { CarafeError, HttpError } from '../core/errors.js'
import { verifyPassword } from './password.js'
import type { AuthMethod, GuardedHandle, GuardInfo } from './request-auth.js'
import type { AuthMiddleware } from './guards.js'

/** A check of a user name and password, for {@link basicAuth}. */
export type BasicCheck = (name: string, password: string) => boolean | Promise<boolean>

/** Options for {@link basicAuth}. */
export interface BasicAuthOptions {
  /** User name → argon2 hash (`await hashPassword('…')`), or your own check. */
  users: Readonly<Record<string, string>> | BasicCheck
  /** The realm the browser shows in its login box. @default 'restricted' */
  realm?: string
  /** The `c.user` of an authenticated request, from its user name. @default (name) => ({ name }) */
  user?: (name: string) => CurrentUser
}

/**
 * HTTP Basic authentication (RFC 7617; Bottle's `auth_basic`) for an admin page or a
 * small internal tool: a request without the right user name and password gets a 401
 * with `WWW-Authenticate: Basic realm="…", charset="UTF-8"`, and the browser asks for
 * them. An unknown user name is checked against a dummy hash, so it takes as long as a
 * wrong password. On success `c.user` is `{ name }` (or what `user(name)` builds) for the
 * rest of the request; `c.login()`/`c.logout()` still reach `auth()` when it is installed.
 * Each request verifies the password (an argon2 hash, tens of milliseconds): fine for a
 * person, use `auth({ tokens })` for API clients.
 *
 * @example
 * app.get('/admin', basicAuth({ users: { admin: process.env.ADMIN_HASH! } }), (c) => 'hello admin')
 */
export function basicAuth(options: BasicAuthOptions): AuthMiddleware {
  const { users } = options
  let check: BasicCheck
  if (typeof users === 'function') check = users
  else if (typeof users === 'object' && users !== null) {
    for (const [name, hash] of Object.entries(users)) {
      if (typeof hash !== 'string' || !hash.startsWith('$argon2')) throw new TypeError(`basicAuth: the password of ${JSON.stringify(name)} must be an argon2 hash (await hashPassword('…')), not the password itself`)
      if (name.includes(':')) throw new TypeError(`basicAuth: user name ${JSON.stringify(name)} cannot contain ':' (RFC 7617 §2)`)
    }
    const table = new Map(Object.entries(users))
    check = (name, password) => verifyPassword(table.get(name), password)
  } else throw new TypeError('basicAuth() needs users: a record of name → argon2 hash, or a function (name, password) => boolean')
  const realm = options.realm ?? 'restricted'
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(realm)) throw new TypeError(`basicAuth realm ${JSON.stringify(realm)} must be printable ASCII without " or \\`)
  const challenge = `Basic realm="${realm}", charset="UTF-8"`
  const guard: GuardInfo = { loginUrl: null, challenge, roles: (user) => rolesOf(user) }
  const makeUser = options.user ?? ((name: string) => ({ name }) as CurrentUser)

  return async function basicAuth(c, next) {
    const creds = credentials(c.req.header('authorization'))
    if (creds !== undefined && (await check(creds.name, creds.password)) === true) {
      c.provide('auth', new BasicHandle(makeUser(creds.name), guard, c.battery('auth')))
      return next()
    }
    throw new HttpError(401, 'this page needs a user name and password', { headers: { 'www-authenticate': challenge }, code: 'ERR_UNAUTHORIZED' })
  }
}

/** The user name and password of `Authorization: Basic <base64>` (UTF-8), or `undefined`. */
export function credentials(header: string | undefined): { name: string; password: string } | undefined {
  if (header === undefined || header.length > 4096) return undefined
  const m = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header)
  if (m === null) return undefined
  const text = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  return { name: text.slice(0, colon), password: text.slice(colon + 1) }
}

function rolesOf(user: CurrentUser): string[] {
  const roles = (user as { roles?: unknown }).roles
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : []
}

/** `c.user` for a request that passed {@link basicAuth}; logins go to `auth()` when there is one. */
class BasicHandle implements GuardedHandle {
  readonly user: CurrentUser
  readonly guard: GuardInfo
  readonly via: AuthMethod = 'basic'
  readonly #inner: AuthHandle | undefined

  constructor(user: CurrentUser, guard: GuardInfo, inner: AuthHandle | undefined) {
    this.user = user
    this.guard = guard
    this.#inner = inner
  }

  /** `auth()`'s runtime when it is installed too (tokens, reset links and mail keep working here). */
  get runtime(): unknown {
    return (this.#inner as { readonly runtime?: unknown } | undefined)?.runtime
  }

  login(user: CurrentUser, options?: LoginOptions): Promise<void> {
    return this.#delegate('c.login()').login(user, options)
  }

  logout(): Promise<void> {
    return this.#delegate('c.logout()').logout()
  }

  logoutOthers(): Promise<void> {
    return this.#delegate('c.logoutOthers()').logoutOthers()
  }

  #delegate(what: string): AuthHandle {
    if (this.#inner === undefined) throw new CarafeError('ERR_NO_AUTH', `${what} needs auth() (basicAuth() has no sessions to log in or out of): app.use(session()); app.use(auth({ loadUser }))`)
    return this.#inner
  }
}
