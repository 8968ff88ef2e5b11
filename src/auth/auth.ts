import type { Carafe, Plugin } from '../core/app.js'
import type { CurrentUser } from '../core/battery.js'
import type { Next } from '../core/compose.js'
import type { Context } from '../core/context.js'
import { CarafeError } from '../core/errors.js'
import { seconds } from '../session/store.js'
import type { AuthConfig, AuthOptions, UserId } from './options.js'
import { RequestAuth } from './request-auth.js'
import { AuthRuntime, needsSession, sessionPluginOf, type AppKeys } from './runtime.js'

/** What `app.plugin('auth')` gives other batteries and the test client. */
export interface AuthPlugin extends Plugin {
  readonly name: 'auth'
  readonly middleware: (c: Context<unknown>, next: Next) => Promise<unknown>
  /**
   * Exactly the session keys `c.login(user)` stores (`$uid`, and `$authv` when the user has
   * a session version), for a session made without a login round-trip: the test client's
   * `loginAs(user)` saves them with `app.plugin('session').createSession(app, data)`. The
   * version is keyed with the app's secrets: pass the app, or it is the one `auth()` last
   * saw (at startup or in a request).
   */
  sessionDataFor(user: CurrentUser, app?: AppKeys): Record<string, unknown>
}

const COOKIE_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Logins (Flask-Login, Django's `contrib.auth`): `c.user` for each request, `c.login()`,
 * `c.logout()`, `c.logoutOthers()`, remember-me cookies and, with `tokens`, bearer tokens
 * for APIs. Install it after `session()`.
 *
 * The user is found, in this order, by a bearer token (when `tokens` is on and the request
 * has `Authorization: Bearer …`; a bad one is a 401), the session's user id, or a
 * remember-me cookie; `loadUser(id)` runs once per request, and only when one of them
 * names a user. A session made before the user's password changed (see `sessionVersion`)
 * is ended, as Django's session auth hash does.
 *
 * @example
 * app.use(session())
 * app.use(auth({ loadUser: (id) => db.users.find(id), roles: (user) => user.roles }))
 * app.post('/login', async (c) => { … await c.login(user, { remember: true }); return c.redirect(c.safeNext('/')) })
 */
export function auth(options: AuthOptions): AuthPlugin {
  const rt = new AuthRuntime(resolveConfig(options))

  async function auth(c: Context<unknown>, next: Next): Promise<unknown> {
    const s = c.battery('session')
    if (s === undefined) throw needsSession()
    rt.app = c.app
    const handle = new RequestAuth(rt, c, s)
    c.provide('auth', handle)
    if (!(await handle.resolve())) return c
    return next()
  }

  return {
    name: 'auth',
    middleware: auth,
    startup(app: Carafe) {
      // Undefined when the session plugin sits on an outer app: requests then find it there.
      rt.sessionPlugin = sessionPluginOf(app)
      rt.app ??= app
    },
    sessionDataFor(user, app) {
      const keys = app ?? rt.app
      if (keys === undefined) throw new CarafeError('ERR_AUTH_NO_APP', 'sessionDataFor(user, app) needs the app (its secrets key the session version): pass it, or call it after app.startup()')
      return rt.sessionData(keys, user)
    },
  }
}

function resolveConfig(o: AuthOptions): AuthConfig {
  if (typeof o !== 'object' || o === null || typeof o.loadUser !== 'function') {
    throw new TypeError('auth() needs loadUser: auth({ loadUser: (id) => users.get(id) })')
  }
  const loginUrl = o.loginUrl ?? '/login'
  if (!loginUrl.startsWith('/') || loginUrl.startsWith('//')) throw new TypeError(`auth loginUrl must be a path on this site ('/login'), got ${JSON.stringify(loginUrl)}`)
  const realm = o.realm ?? 'app'
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(realm)) throw new TypeError(`auth realm ${JSON.stringify(realm)} must be printable ASCII without " or \\`)
  let tokens: AuthConfig['tokens'] = null
  if (o.tokens !== undefined && o.tokens !== false) {
    const t = o.tokens === true ? {} : o.tokens
    const scheme = t.scheme ?? 'Bearer'
    if (!COOKIE_NAME_RE.test(scheme)) throw new TypeError(`auth tokens scheme ${JSON.stringify(scheme)} must be a token ('Bearer', 'Token')`)
    const maxAge = seconds(t.maxAge ?? '1h', 'auth tokens maxAge')
    if (maxAge <= 0) throw new TypeError('auth tokens maxAge must be more than 0 seconds')
    tokens = { scheme, maxAge }
  }
  const remember = o.remember ?? {}
  const rememberAge = seconds(remember.maxAge ?? '30d', 'auth remember maxAge')
  if (rememberAge <= 0) throw new TypeError('auth remember maxAge must be more than 0 seconds')
  const cookie = remember.cookie ?? 'remember'
  if (!COOKIE_NAME_RE.test(cookie) || /^__(host|secure)-/i.test(cookie)) {
    throw new TypeError(`auth remember cookie name ${JSON.stringify(cookie)} must be a plain token (the __Host- prefix is added on HTTPS by itself)`)
  }
  return {
    loadUser: o.loadUser,
    userId: o.userId ?? ((user) => (user as { id?: unknown }).id as UserId),
    roles: o.roles ?? ((user) => {
      const roles = (user as { roles?: unknown }).roles
      return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : []
    }),
    loginUrl,
    sessionVersion: o.sessionVersion,
    tokens,
    remember: { maxAge: rememberAge, httpName: cookie, httpsName: `__Host-${cookie}` },
    realm,
    mailer: o.mailer,
  }
}
