import type { CurrentUser } from '../core/battery.js'
import type { Context } from '../core/context.js'
import { CarafeError } from '../core/errors.js'
import { seconds } from '../session/store.js'
import type { UserId } from './options.js'
import { runtimeOf, type AuthRuntime } from './runtime.js'

/**
 * API tokens: JWTs signed with HS256 under the app's `'token'` key (HKDF from its
 * secrets; signed with the newest, verified with all, so secrets rotate). Threats and
 * rules: `alg: none` and algorithm confusion (an RS256 header verified with an HMAC key)
 * are refused by pinning the algorithm list to HS256; a token without `exp` never
 * expires, so `exp` is required; a token made before a password change carries the old
 * session version (`ver`) and is refused.
 */

/** Options for {@link issueToken}. */
export interface IssueTokenOptions {
  /** Lifetime (`'15m'`, `'30d'` or seconds). @default auth({ tokens: { maxAge } }), '1h' */
  expiresIn?: number | string
}

/** Why a token was refused. */
export type TokenProblem = 'expired' | 'invalid'

/** A verified token's user id and version, or why it was refused. */
export type TokenCheck = { ok: true; id: UserId; version: unknown } | { ok: false; problem: TokenProblem; message: string }

type Jose = typeof import('jose')
let jose: Promise<Jose> | null = null
/** jose on first use: an app without tokens never loads it. */
function loadJose(): Promise<Jose> {
  return (jose ??= import('jose'))
}

/** Sign a token for `user` (the user id in `sub`, the session version in `ver`). @internal */
export async function signToken(rt: AuthRuntime, c: Context<unknown>, user: CurrentUser, options: IssueTokenOptions): Promise<string> {
  if (rt.config.tokens === null) throw new CarafeError('ERR_AUTH_TOKENS_OFF', 'issueToken() needs tokens turned on: auth({ loadUser, tokens: true })')
  const life = options.expiresIn === undefined ? rt.config.tokens.maxAge : seconds(options.expiresIn, 'issueToken expiresIn')
  if (!(life > 0)) throw new TypeError('issueToken: expiresIn must be more than 0 seconds')
  const id = rt.idOf(user)
  const version = rt.stampFor(c.app, id, user)
  const { SignJWT } = await loadJose()
  const now = Math.floor(Date.now() / 1000)
  // `sub` is a string (RFC 7519 §4.1.2); `uid` keeps a numeric id a number for loadUser.
  const claims: Record<string, string | number> = {}
  if (typeof id === 'number') claims.uid = id
  if (version !== null) claims.ver = version
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(id))
    .setIssuedAt(now)
    .setExpirationTime(now + Math.ceil(life))
    .sign(c.app.key('token'))
}

/** Check a token's signature (against every key), algorithm and claims. Never throws for a bad token. @internal */
export async function checkToken(c: Context<unknown>, token: string): Promise<TokenCheck> {
  const invalid: TokenCheck = { ok: false, problem: 'invalid', message: 'the token is invalid' }
  if (token.length > 8192) return invalid
  const { jwtVerify, errors } = await loadJose()
  for (const key of c.app.keys('token')) {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] })
      const sub = payload.sub
      if (typeof sub !== 'string' || sub === '') return invalid
      const uid = payload.uid
      if (uid === undefined) return { ok: true, id: sub, version: payload.ver }
      if (typeof uid !== 'number' || String(uid) !== sub) return invalid
      return { ok: true, id: uid, version: payload.ver }
    } catch (e) {
      // The signature is checked before the claims, so "expired" means a genuine token.
      if (e instanceof errors.JWSSignatureVerificationFailed) continue
      if (e instanceof errors.JWTExpired) return { ok: false, problem: 'expired', message: 'the token has expired' }
      return invalid
    }
  }
  return invalid
}

/** The token in `Authorization: <scheme> <token>` when the scheme is ours (case-insensitive, RFC 9110 §11.1), else `undefined`. */
export function tokenFrom(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined) return undefined
  const space = header.indexOf(' ')
  if (space <= 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined
  return header.slice(space + 1).trim()
}

/**
 * A token for `user` to send as `Authorization: Bearer <token>` (with `auth({ tokens })`):
 * a JWT signed with HS256 under the app's `'token'` key, `sub` the user id, expiring after
 * `expiresIn` (default `auth({ tokens: { maxAge } })`, one hour). It stops working when
 * the user's session version changes (a new password); there is no other revocation, so
 * keep lifetimes short.
 *
 * @example
 * app.post('/api/token', async (c) => {
 *   const user = await checkLogin(await c.req.json())
 *   return user === null ? c.json({ error: 'wrong email or password' }, 401) : { token: await issueToken(c, user, { expiresIn: '15m' }) }
 * })
 */
export function issueToken(c: Context<unknown>, user: CurrentUser, options: IssueTokenOptions = {}): Promise<string> {
  return signToken(runtimeOf(c, 'issueToken()'), c, user, options)
}
