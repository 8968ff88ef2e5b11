import type { CurrentUser } from '../core/battery.js'
import type { Context } from '../core/context.js'
import type { Mailer } from './mailer.js'

/** A user id as the session keeps it: a string or a number, given back to `loadUser` with the same type. */
export type UserId = string | number

/** Options for `auth()`. */
export interface AuthOptions {
  /**
   * Find the user for an id (Flask-Login's `user_loader`): from the session, a remember-me
   * cookie or a token. Return `null`/`undefined` for a user who no longer exists (the
   * session is then logged out). Called at most once per request.
   */
  loadUser(id: UserId): CurrentUser | null | undefined | Promise<CurrentUser | null | undefined>
  /** The id to keep for a user (Flask-Login's `get_id()`). @default (user) => user.id */
  userId?(user: CurrentUser): UserId
  /** The user's roles, for `requireRole()`. @default (user) => user.roles (when it is an array) */
  roles?(user: CurrentUser): Iterable<string>
  /** Where `requireLogin()` sends browsers, with `?next=<path>`. @default '/login' */
  loginUrl?: string
  /**
   * What a logged-in session is bound to: when it changes, every session (and remember-me
   * cookie and token) made before ends. Django's session auth hash.
   * @default the user's `passwordHash`, `hash` or `password_hash` field, when it has one
   */
  sessionVersion?(user: CurrentUser): string | number | null | undefined
  /** Accept `Authorization: Bearer <jwt>` for APIs (`true`, or options). @default false */
  tokens?: boolean | TokenOptions
  /** Remember-me cookies (`c.login(user, { remember: true })`). @default { maxAge: '30d' } */
  remember?: RememberOptions
  /** The realm named in `WWW-Authenticate` on a 401. @default 'app' */
  realm?: string
  /** How `sendMail(c, message)` sends mail. @default consoleMailer() outside production; none (ERR_NO_MAILER) when NODE_ENV=production */
  mailer?: Mailer
}

/** Options for API tokens (`auth({ tokens })`). */
export interface TokenOptions {
  /** The `Authorization` scheme: `'Bearer'`, `'Token'` (Django REST framework), or your own. Case-insensitive. @default 'Bearer' */
  scheme?: string
  /** Lifetime of the tokens `issueToken()` makes when it is not told (`'1h'`, `'30d'` or seconds). @default '1h' */
  maxAge?: number | string
}

/** Options for remember-me cookies. */
export interface RememberOptions {
  /** How long the cookie keeps a browser logged in (`'30d'` or seconds); renewed each time it is used. @default '30d' */
  maxAge?: number | string
  /** Cookie name (`__Host-` is added on HTTPS). @default 'remember' */
  cookie?: string
}

/** The resolved options, as the request-time code uses them. @internal */
export interface AuthConfig {
  readonly loadUser: AuthOptions['loadUser']
  readonly userId: (user: CurrentUser) => UserId
  readonly roles: (user: CurrentUser) => Iterable<string>
  readonly loginUrl: string
  readonly sessionVersion: AuthOptions['sessionVersion']
  /** `null` when tokens are off. */
  readonly tokens: { readonly scheme: string; readonly maxAge: number } | null
  readonly remember: { readonly maxAge: number; readonly httpName: string; readonly httpsName: string }
  readonly realm: string
  readonly mailer: Mailer | undefined
}

/** A permission check for `requirePermission()`; `c.params` has the route's types. */
export type PermissionCheck<P = unknown> = (user: CurrentUser, c: Context<P>) => boolean | Promise<boolean>
