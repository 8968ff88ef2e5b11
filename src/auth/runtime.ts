import type { CurrentUser } from '../core/battery.js'
import type { Context } from '../core/context.js'
import type { AppServices } from '../core/services.js'
import { CarafeError, HttpError } from '../core/errors.js'
import type { SessionPlugin } from '../session/session.js'
import type { SessionStore } from '../session/store.js'
import type { AuthConfig, UserId } from './options.js'
import { matchStamp, stamp, versionSource } from './version.js'
import type { GuardInfo } from './request-auth.js'

/** The app's keys (what `new Carafe({ secrets })` derives per purpose): an app or a context's `c.app`. */
export interface AppKeys {
  /** The newest key for `purpose`. */
  key(purpose: string): Buffer
  /** Every key for `purpose`, newest first. */
  keys(purpose: string): readonly Buffer[]
}

/** Where `c.login()` keeps the user id in the session. */
export const UID_KEY = '$uid'
/** Where it keeps the session version (Django's session auth hash). */
export const VERSION_KEY = '$authv'

/** What one `auth()` plugin shares with its requests: the options, the session store, the keys. @internal */
export class AuthRuntime {
  readonly config: AuthConfig
  readonly guard: GuardInfo
  /** The session plugin of the app `auth()` was started with (a mounted app's own). */
  sessionPlugin: SessionPlugin | undefined
  /** The app last seen (startup or a request), for `sessionDataFor(user)` without an app. */
  app: AppKeys | undefined

  constructor(config: AuthConfig) {
    this.config = config
    const realm = `realm="${config.realm}"`
    this.guard = {
      loginUrl: config.loginUrl,
      // A 401 must name a scheme (RFC 9110 §11.6.1); cookie sessions have none registered, so
      // "Session" says "log in through the app", and Bearer (or yours) when tokens are on.
      challenge: config.tokens === null ? `Session ${realm}` : `${config.tokens.scheme} ${realm}`,
      roles: config.roles,
    }
  }

  /** The user's id, checked: a non-empty string or a finite number. */
  idOf(user: CurrentUser): UserId {
    if (typeof user !== 'object' || user === null) throw new TypeError('c.login() takes a user object (what loadUser returns)')
    const id = this.config.userId(user)
    if ((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id))) return id
    throw new CarafeError('ERR_AUTH_USER_ID', `the user's id is ${id === undefined ? 'missing' : JSON.stringify(id)}; a user needs an id (a string or a number): give it an id field, or auth({ userId: (user) => user.key })`)
  }

  /** The version stamp for `user` with the app's newest key, or `null` when there is no version source. */
  stampFor(app: AppKeys, id: UserId, user: CurrentUser): string | null {
    const source = versionSource(user, this.config.sessionVersion)
    return source === null ? null : stamp(app.key('auth-version'), id, source)
  }

  /** Which key made `stored` for `user` (0 newest), or -1: the session, cookie or token predates a password change. */
  checkStamp(app: AppKeys, id: UserId, user: CurrentUser, stored: unknown): number {
    return matchStamp(app.keys('auth-version'), id, versionSource(user, this.config.sessionVersion), stored)
  }

  /** The session keys `c.login(user)` stores. */
  sessionData(app: AppKeys, user: CurrentUser): Record<string, unknown> {
    const id = this.idOf(user)
    const v = this.stampFor(app, id, user)
    return v === null ? { [UID_KEY]: id } : { [UID_KEY]: id, [VERSION_KEY]: v }
  }

  /** `loadUser`, with a user that is not an object read as "no such user". */
  async load(id: UserId): Promise<CurrentUser | null> {
    const user = await this.config.loadUser(id)
    return typeof user === 'object' && user !== null ? user : null
  }

  /**
   * The session plugin's store, opened, for the keys auth keeps beside the sessions
   * (remember-me and reset tokens, under their own hashed names).
   */
  async store(c: Context<unknown>): Promise<SessionStore> {
    const plugin = this.sessionPlugin ?? sessionPluginOf(c.app)
    if (plugin === undefined) throw needsSession()
    // Opened once (a request can come before startup: app.fetch in a test); it only needs the app's root and keys.
    await guardStore(plugin.open(c.app))
    return plugin.store
  }

  /** True for a store that keeps everything in the cookie (no place for a token's hash). */
  stateless(c: Context<unknown>): boolean {
    const plugin = this.sessionPlugin ?? sessionPluginOf(c.app)
    return plugin?.store.stateless === true
  }
}

/** The `auth()` runtime behind this request's `c.user` (`auth()`'s handle, or `basicAuth()`'s over it). */
export function runtimeOf(c: Context<unknown>, what: string): AuthRuntime {
  const rt = (c.battery('auth') as { readonly runtime?: unknown } | undefined)?.runtime
  if (rt instanceof AuthRuntime) return rt
  throw new CarafeError('ERR_NO_AUTH', `${what} needs the auth middleware: app.use(session()); app.use(auth({ loadUser })) with auth from 'carafe/auth'`)
}

export function sessionPluginOf(app: AppServices | undefined): SessionPlugin | undefined {
  const find = (app as { plugin?: (name: string) => unknown } | undefined)?.plugin
  return typeof find === 'function' ? (find.call(app, 'session') as SessionPlugin | undefined) : undefined
}

export function needsSession(): CarafeError {
  return new CarafeError('ERR_AUTH_NEEDS_SESSION', "auth() needs sessions: install session() before it, app.use(session()); app.use(auth({ loadUser })) with session from 'carafe/session'")
}

/** Store trouble is a 503 for this request, as the session middleware answers it; misuse stays an error. */
export async function guardStore<T>(p: Promise<T> | T): Promise<T> {
  try {
    return await p
  } catch (e) {
    if (e instanceof TypeError || e instanceof CarafeError || e instanceof HttpError) throw e
    console.error('[carafe] auth: the session store failed:', e)
    throw new HttpError(503, 'the session store is unavailable right now; please try again in a moment', { code: 'ERR_SESSION_STORE', cause: e })
  }
}
