import type { AuthHandle, AuthMethod, CurrentUser, LoginOptions, Session } from '../core/battery.js'
export type { AuthMethod }
import type { Context } from '../core/context.js'
import { CarafeError } from '../core/errors.js'
import type { UserId } from './options.js'
import { hasRememberCookie, issueRemember, readRemember, revokeRemember, rotateRemember } from './remember.js'
import { UID_KEY, VERSION_KEY, type AuthRuntime } from './runtime.js'
import { checkToken, tokenFrom } from './tokens.js'

/** What the route guards need from whatever provides `c.user` (`auth()` or `basicAuth()`). @internal */
export interface GuardInfo {
  /** Where browsers go to log in (`?next=` added), or `null`: everyone gets the 401. */
  readonly loginUrl: string | null
  /** The `WWW-Authenticate` value of a 401. */
  readonly challenge: string
  roles(user: CurrentUser): Iterable<string>
}

/** An {@link AuthHandle} that the guards can ask how to refuse. @internal */
export interface GuardedHandle extends AuthHandle {
  readonly guard: GuardInfo
}

/**
 * `auth()`'s part of one request: finds the user (a bearer token, else the session, else
 * a remember-me cookie), and logs in and out. @internal
 */
export class RequestAuth implements GuardedHandle {
  readonly #rt: AuthRuntime
  readonly #c: Context<unknown>
  readonly #s: Session
  #user: CurrentUser | null = null
  #id: UserId | null = null
  #via: AuthMethod | null = null
  /** Users loaded in this request, by id: `loadUser` runs once per id at most. */
  #loaded: Map<UserId, CurrentUser | null> | null = null

  constructor(rt: AuthRuntime, c: Context<unknown>, s: Session) {
    this.#rt = rt
    this.#c = c
    this.#s = s
  }

  get user(): CurrentUser | null {
    return this.#user
  }

  /** The logged-in user's id, or `null`. */
  get id(): UserId | null {
    return this.#id
  }

  get via(): AuthMethod | null {
    return this.#via
  }

  get guard(): GuardInfo {
    return this.#rt.guard
  }

  get runtime(): AuthRuntime {
    return this.#rt
  }

  /**
   * Find who is logged in. Resolves to `false` when the request has been answered: a bearer
   * token that does not verify is a 401 saying why, never a fall-back to the session.
   */
  async resolve(): Promise<boolean> {
    const tokens = this.#rt.config.tokens
    if (tokens !== null) {
      const token = tokenFrom(this.#c.req.header('authorization'), tokens.scheme)
      if (token !== undefined) return this.#fromToken(token)
    }
    const uid = this.#s.get(UID_KEY)
    if (uid !== undefined && (await this.#fromSession(uid))) return true
    if (hasRememberCookie(this.#rt, this.#c)) await this.#fromRemember()
    return true
  }

  async #fromToken(token: string): Promise<boolean> {
    const rt = this.#rt
    const c = this.#c
    const checked = await checkToken(c, token)
    if (checked.ok) {
      const user = await this.#load(checked.id)
      if (user !== null && rt.checkStamp(c.app, checked.id, user, checked.version ?? null) >= 0) {
        this.#set(user, checked.id, 'token')
        return true
      }
    }
    const message = checked.ok ? 'the token was revoked (its user is gone or changed their password)' : checked.message
    const scheme = rt.config.tokens!.scheme
    c.header('www-authenticate', `${scheme} realm="${rt.config.realm}", error="invalid_token", error_description="${message}"`)
    c.json({ error: 'Unauthorized', status: 401, message, reason: checked.ok ? 'revoked' : checked.problem }, 401)
    return false
  }

  /** A session that holds a user id; a stale one (user gone, password changed) is ended. */
  async #fromSession(uid: unknown): Promise<boolean> {
    const rt = this.#rt
    const c = this.#c
    if (typeof uid === 'string' || typeof uid === 'number') {
      const user = await this.#load(uid)
      if (user !== null) {
        const k = rt.checkStamp(c.app, uid, user, this.#s.get(VERSION_KEY))
        if (k >= 0) {
          // Made with an older secret: stamp it with the newest, so the old one can retire.
          if (k > 0) this.#s.set(VERSION_KEY, rt.stampFor(c.app, uid, user))
          this.#set(user, uid, 'session')
          return true
        }
      }
    }
    // Django flushes such a session: it is gone server-side, not just unused.
    await this.#s.destroy()
    return false
  }

  async #fromRemember(): Promise<void> {
    const rt = this.#rt
    const c = this.#c
    const found = await readRemember(rt, c)
    if (found === undefined) return
    const user = await this.#load(found.id)
    if (user === null || rt.checkStamp(c.app, found.id, user, found.version) < 0) {
      await revokeRemember(rt, c)
      return
    }
    const version = await this.#start(user, found.id)
    await rotateRemember(rt, c, found, version)
    this.#via = 'remember'
  }

  /** A new session id (against fixation) holding the user id and version; returns the version. */
  async #start(user: CurrentUser, id: UserId): Promise<string | null> {
    const s = this.#s
    const prev = s.get(UID_KEY)
    // Another user's session data is not handed to this one (Django's login() flushes it).
    if (prev !== undefined && prev !== id) s.clear()
    await s.regenerate()
    // A new CSRF secret with the new login (as Django rotates its token): a token an attacker
    // saw before the login does not work after it.
    s.delete('$csrf')
    const version = this.#rt.stampFor(this.#c.app, id, user)
    s.set(UID_KEY, id)
    if (version === null) s.delete(VERSION_KEY)
    else s.set(VERSION_KEY, version)
    this.#set(user, id, 'session')
    return version
  }

  async login(user: CurrentUser, options: LoginOptions = {}): Promise<void> {
    const id = this.#rt.idOf(user)
    const version = await this.#start(user, id)
    const remember = options.remember === true
    // A remember cookie of an earlier login (maybe another user's) is revoked either way.
    await revokeRemember(this.#rt, this.#c, !remember)
    if (remember) await issueRemember(this.#rt, this.#c, id, version)
  }

  async logout(): Promise<void> {
    await revokeRemember(this.#rt, this.#c)
    await this.#s.destroy()
    this.#user = null
    this.#id = null
    this.#via = null
  }

  async logoutOthers(): Promise<void> {
    const rt = this.#rt
    const c = this.#c
    const id = this.#id
    if (id === null) throw new CarafeError('ERR_AUTH_NOT_LOGGED_IN', 'c.logoutOthers() needs a logged-in user')
    // Loaded again: the handler has just changed the password, and c.user may predate it.
    const fresh = await rt.load(id)
    if (fresh === null) return this.logout()
    const version = rt.stampFor(c.app, id, fresh)
    if (version === null) {
      throw new CarafeError('ERR_AUTH_NO_VERSION', "c.logoutOthers() ends other sessions by their session version, and this user has none: give users a passwordHash (or hash, password_hash) field, or auth({ sessionVersion: (user) => user.sessionEpoch }) and bump it")
    }
    this.#user = fresh
    // A token request has no session to keep; its token (old version) ends with the others.
    if (this.#via === 'token') return
    if (version === this.#s.get(VERSION_KEY)) {
      console.warn('[carafe] c.logoutOthers(): the session version did not change, so other sessions stay logged in; change the password (or your sessionVersion) first')
    }
    await this.#s.regenerate()
    this.#s.set(UID_KEY, id)
    this.#s.set(VERSION_KEY, version)
    if (hasRememberCookie(rt, c)) {
      await revokeRemember(rt, c, false)
      await issueRemember(rt, c, id, version)
    }
  }

  async #load(id: UserId): Promise<CurrentUser | null> {
    const cached = this.#loaded?.get(id)
    if (cached !== undefined) return cached
    const user = await this.#rt.load(id)
    ;(this.#loaded ??= new Map()).set(id, user)
    return user
  }

  #set(user: CurrentUser, id: UserId, via: AuthMethod): void {
    this.#user = user
    this.#id = id
    this.#via = via
  }
}
