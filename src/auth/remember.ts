import { randomBytes } from 'node:crypto'
import type { Context } from '../core/context.js'
import { hashId } from '../session/session.js'
import type { UserId } from './options.js'
import { guardStore, type AuthRuntime } from './runtime.js'
import { openPayload, signPayload } from './signed.js'

/**
 * Remember-me (Flask-Login's `remember=True`): a long-lived HttpOnly cookie holding a
 * 256-bit random token; the session store keeps only its SHA-256 under its own name
 * (`hashId('remember:' + token)`), so a store dump holds no usable cookie, and logout
 * revokes it. The token is rotated each time it logs a browser in. With a stateless
 * store there is nowhere to keep the hash, so the cookie is a signed token carrying the
 * user id and the session version: a password change still revokes it, logout only
 * clears it from this browser.
 */

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/
/**
 * How long a rotated token keeps working: tabs restored together after a browser restart
 * all send the old cookie at once, and each must be logged in (not logged out and the
 * cookie cleared, which would cost the user remember-me altogether).
 */
const GRACE_SECONDS = 30

/** What a remember cookie named: the user id, the version stamp it was made with, and whether it may be rotated. */
export interface Remembered {
  id: UserId
  version: string | null
  /** False once it has been rotated (inside the grace period): log in, issue nothing. */
  rotate: boolean
}

function cookieName(rt: AuthRuntime, c: Context<unknown>): string {
  return c.req.protocol === 'https' ? rt.config.remember.httpsName : rt.config.remember.httpName
}

/** Whether this request carries a remember cookie at all. */
export function hasRememberCookie(rt: AuthRuntime, c: Context<unknown>): boolean {
  return c.req.cookie(cookieName(rt, c)) !== undefined
}

/** Set a new remember cookie for `id` (and keep its hash in the store). */
export async function issueRemember(rt: AuthRuntime, c: Context<unknown>, id: UserId, version: string | null): Promise<void> {
  const maxAge = rt.config.remember.maxAge
  let value: string
  if (rt.stateless(c)) {
    value = signPayload('remember', c.app.key('auth-remember'), { u: id, v: version, e: Date.now() + maxAge * 1000 })
  } else {
    value = randomBytes(32).toString('base64url')
    const store = await rt.store(c)
    await guardStore(store.apply(keyOf(value), { set: { kind: 'remember', uid: id, authv: version }, create: true }, maxAge))
  }
  c.setCookie(cookieName(rt, c), value, { maxAge: Math.floor(maxAge), httpOnly: true, sameSite: 'lax' })
}

/**
 * What this request's remember cookie names, or `undefined` for none, or one that is
 * unknown, revoked, expired or forged (and then the cookie is cleared).
 */
export async function readRemember(rt: AuthRuntime, c: Context<unknown>): Promise<Remembered | undefined> {
  const name = cookieName(rt, c)
  const raw = c.req.cookie(name)
  if (raw === undefined) return undefined
  const found = await lookup(rt, c, raw)
  if (found === undefined) c.deleteCookie(name)
  return found
}

async function lookup(rt: AuthRuntime, c: Context<unknown>, raw: string): Promise<Remembered | undefined> {
  if (rt.stateless(c)) {
    const p = openPayload('remember', c.app.keys('auth-remember'), raw)
    return p === undefined ? undefined : { id: p.u, version: p.v, rotate: true }
  }
  if (!TOKEN_RE.test(raw)) return undefined
  const store = await rt.store(c)
  const rec = await guardStore(store.get(keyOf(raw)))
  if (rec === undefined || rec.expires <= Date.now()) return undefined
  const { kind, uid, authv, rotated } = rec.data
  if (kind !== 'remember' || (typeof uid !== 'string' && typeof uid !== 'number') || (typeof authv !== 'string' && authv !== null)) return undefined
  return { id: uid, version: authv, rotate: rotated === undefined }
}

/** After the cookie logged the browser in: a new token, the old one kept only for the grace period. */
export async function rotateRemember(rt: AuthRuntime, c: Context<unknown>, found: Remembered, version: string | null): Promise<void> {
  if (!found.rotate) return
  const raw = c.req.cookie(cookieName(rt, c))
  if (raw !== undefined && !rt.stateless(c)) {
    const store = await rt.store(c)
    // Without `create`: a token revoked meanwhile (a logout) is not brought back.
    await guardStore(store.apply(keyOf(raw), { set: { rotated: Date.now() } }, GRACE_SECONDS))
  }
  await issueRemember(rt, c, found.id, version)
}

/** Revoke this request's remember token (server side) and clear the cookie (unless a new one replaces it). */
export async function revokeRemember(rt: AuthRuntime, c: Context<unknown>, clearCookie = true): Promise<void> {
  const name = cookieName(rt, c)
  const raw = c.req.cookie(name)
  if (raw === undefined) return
  if (!rt.stateless(c) && TOKEN_RE.test(raw)) {
    const store = await rt.store(c)
    await guardStore(store.destroy(keyOf(raw)))
  }
  if (clearCookie) c.deleteCookie(name)
}

function keyOf(token: string): string {
  return hashId(`remember:${token}`)
}
