import type { Next } from '../core/compose.js'
import type { Context } from '../core/context.js'
import { CarafeError, HttpError } from '../core/errors.js'
import type { PermissionCheck } from './options.js'
import type { GuardedHandle, GuardInfo } from './request-auth.js'

/** A per-route guard: `app.get('/x', requireLogin(), handler)`. Works on routes of any params. */
export type AuthMiddleware = (c: Context<unknown>, next: Next) => Promise<unknown>

/**
 * Only logged-in users (Flask-Login's `@login_required`). Others get, when they are a
 * browser (the request accepts `text/html`), a 302 to the login page with
 * `?next=<path and query>`; otherwise a 401 JSON body with `WWW-Authenticate`
 * (`Bearer realm="app"` with tokens on, else `Session realm="app"`).
 *
 * @example
 * app.get('/profile', requireLogin(), (c) => c.render('profile.html', { user: c.user }))
 */
export function requireLogin(): AuthMiddleware {
  return async function requireLogin(c, next) {
    const a = handleOf(c, 'requireLogin()')
    if (a.user === null) return refuse(c, a)
    return next()
  }
}

/**
 * Only users with at least one of `roles` (from `auth({ roles })`, by default
 * `user.roles`): 403 for the others, and the answer of {@link requireLogin} when nobody
 * is logged in. Chain two to require both: `requireRole('staff'), requireRole('billing')`.
 *
 * @example
 * app.get('/admin', requireRole('admin'), (c) => c.render('admin.html'))
 */
export function requireRole(...roles: string[]): AuthMiddleware {
  if (roles.length === 0 || roles.some((r) => typeof r !== 'string' || r === '')) throw new TypeError('requireRole() takes one or more role names')
  const wanted = new Set(roles)
  const label = roles.length === 1 ? `the ${roles[0]} role` : `one of the roles ${roles.join(', ')}`
  return async function requireRole(c, next) {
    const a = handleOf(c, 'requireRole()')
    const user = a.user
    if (user === null) return refuse(c, a)
    for (const r of a.guard.roles(user)) if (wanted.has(r)) return next()
    throw new HttpError(403, `this page needs ${label}`, { code: 'ERR_FORBIDDEN' })
  }
}

/**
 * Only users for whom `check(user, c)` is true (Django's `user_passes_test`): 403 for the
 * others, the answer of {@link requireLogin} when nobody is logged in.
 *
 * @example
 * app.post('/posts/<int:id>/delete', requirePermission((user, c) => canEdit(user, c.params)), handler)
 */
export function requirePermission<P = unknown>(check: PermissionCheck<P>): (c: Context<P>, next: Next) => Promise<unknown> {
  if (typeof check !== 'function') throw new TypeError('requirePermission() takes a function (user, c) => boolean')
  return async function requirePermission(c, next) {
    const a = handleOf(c, 'requirePermission()')
    const user = a.user
    if (user === null) return refuse(c, a)
    if ((await check(user, c)) === true) return next()
    throw new HttpError(403, 'you do not have permission to do this', { code: 'ERR_FORBIDDEN' })
  }
}

type Guarded = Pick<GuardedHandle, 'user' | 'guard'>

/** For an auth handle that is neither auth()'s nor basicAuth()'s. */
const PLAIN_GUARD: GuardInfo = { loginUrl: null, challenge: 'Session realm="app"', roles: () => [] }

function handleOf(c: Context<unknown>, what: string): Guarded {
  const a = c.battery('auth')
  if (a === undefined) throw new CarafeError('ERR_NO_AUTH', `${what} needs the auth middleware: app.use(auth({ loadUser })) (or basicAuth()) in front of the route, with auth from 'carafe/auth'`)
  return 'guard' in a ? (a as GuardedHandle) : { user: a.user, guard: PLAIN_GUARD }
}

/** Not logged in: browsers to the login page, API clients a 401 they can read. */
function refuse(c: Context<unknown>, a: Guarded): Context<unknown> {
  const loginUrl = a.guard.loginUrl
  if (loginUrl !== null && (c.req.header('accept') ?? '').includes('text/html')) {
    const query = c.req.rawQuery
    const here = query === '' ? c.req.path : `${c.req.path}?${query}`
    return c.redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(here)}`, 302)
  }
  c.header('www-authenticate', a.guard.challenge)
  return c.json({ error: 'Unauthorized', status: 401, message: 'log in to see this' }, 401)
}
