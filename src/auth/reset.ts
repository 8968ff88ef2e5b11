import { randomBytes } from 'node:crypto'
import type { CurrentUser } from '../core/battery.js'
import type { Context } from '../core/context.js'
import { hashId } from '../session/session.js'
import { seconds } from '../session/store.js'
import type { UserId } from './options.js'
import { guardStore, runtimeOf } from './runtime.js'
import { openPayload, signPayload } from './signed.js'

/**
 * Password-reset tokens. Threats: a token read from a mailbox or a log later, a token
 * guessed, a token used twice. Rules: 256 random bits; only the SHA-256 kept, in the
 * session store under its own name (`hashId('reset:' + token)`), so a store dump holds
 * none; an expiry (1 hour by default); consumed on first use; and bound to the user's
 * session version, so it dies as soon as the password changes by any path.
 */

/** Options for {@link createResetToken}. */
export interface ResetTokenOptions {
  /** How long the token works (`'1h'`, `'15m'` or seconds). @default '1h' */
  ttl?: number | string
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/
/** Tokens being consumed in this process: a second request with the same token waits for nothing and fails. */
const consuming = new Set<string>()

/**
 * A single-use, expiring password-reset token for `user`, to put in a link you email
 * (see {@link sendMail}). Only its hash is stored. With a stateless session store it is a
 * signed token instead, single-use because it stops working once the password changes.
 *
 * @example
 * const token = await createResetToken(c, user)
 * await sendMail(c, { to: user.email, subject: 'Reset your password', text: `${c.req.origin}/reset/${token}` })
 */
export async function createResetToken(c: Context<unknown>, user: CurrentUser, options: ResetTokenOptions = {}): Promise<string> {
  const rt = runtimeOf(c, 'createResetToken()')
  const ttl = seconds(options.ttl ?? '1h', 'createResetToken ttl')
  if (!(ttl > 0)) throw new TypeError('createResetToken: ttl must be more than 0 seconds')
  const id = rt.idOf(user)
  const version = rt.stampFor(c.app, id, user)
  const expires = Date.now() + ttl * 1000
  if (rt.stateless(c)) return signPayload('reset', c.app.key('auth-reset'), { u: id, v: version, e: expires })
  const token = randomBytes(32).toString('base64url')
  const store = await rt.store(c)
  await guardStore(store.apply(keyOf(token), { set: { kind: 'reset', uid: id, authv: version, expires }, create: true }, ttl))
  return token
}

/**
 * The user id a reset token was made for, consuming the token; `undefined` for a token
 * that is unknown, expired, already used, forged, or older than the user's last password
 * change. Then set the new password (and call `c.logoutOthers()` or `c.login(user)`).
 *
 * @example
 * const id = await consumeResetToken(c, c.params.token)
 * if (id === undefined) return c.text('this link has expired; ask for a new one', 400)
 */
export async function consumeResetToken(c: Context<unknown>, token: string): Promise<UserId | undefined> {
  const rt = runtimeOf(c, 'consumeResetToken()')
  if (typeof token !== 'string') return undefined
  let id: UserId
  let version: unknown
  if (rt.stateless(c)) {
    const p = openPayload('reset', c.app.keys('auth-reset'), token)
    if (p === undefined) return undefined
    id = p.u
    version = p.v
  } else {
    if (!TOKEN_RE.test(token)) return undefined
    const key = keyOf(token)
    // One consumer per token in this process; across processes the window is one store
    // round-trip, and the version check below closes it once the password has changed.
    if (consuming.has(key)) return undefined
    consuming.add(key)
    try {
      const store = await rt.store(c)
      const rec = await guardStore(store.get(key))
      if (rec === undefined) return undefined
      await guardStore(store.destroy(key))
      const { kind, uid, authv, expires } = rec.data
      if (kind !== 'reset' || (typeof uid !== 'string' && typeof uid !== 'number') || typeof expires !== 'number' || expires <= Date.now()) return undefined
      id = uid
      version = authv
    } finally {
      consuming.delete(key)
    }
  }
  const user = await rt.load(id)
  if (user === null || rt.checkStamp(c.app, id, user, version ?? null) < 0) return undefined
  return id
}

function keyOf(token: string): string {
  return hashId(`reset:${token}`)
}
