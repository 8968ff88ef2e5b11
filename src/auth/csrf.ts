import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context } from '../core/context.js'
import type { Middleware } from '../core/compose.js'
import type { CsrfHandle, Session } from '../core/battery.js'
import { CarafeError, HttpError } from '../core/errors.js'
import { prefixSegments } from '../router/canonical.js'
import { toOrigin } from '../core/app.js'

/** Options for {@link csrf}. */
export interface CsrfOptions {
  /**
   * Origins allowed to send state-changing requests besides the request's own, added to the
   * app's `trustedOrigins` option: `['https://admin.example.com']`.
   * @default []
   */
  trustedOrigins?: readonly string[]
  /**
   * Requests not checked at all: paths (`'/webhooks/stripe'`: that path, with or without a
   * trailing slash) and subtrees (`'/hooks/*'`: `/hooks` and everything under it), decided on
   * the router's canonical segments; or a function of the context.
   * @default none
   */
  exempt?: readonly string[] | ((c: Context) => boolean)
}

/** The form field and header a CSRF token travels in. */
export const CSRF_FIELD = '_csrf'
export const CSRF_HEADER = 'x-csrf-token'
/** Where the per-session CSRF secret lives in the session (a Carafe `$`-key). */
export const CSRF_SESSION_KEY = '$csrf'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
/** Authorization schemes a browser adds by itself once the user has typed credentials: these are ambient, like cookies. */
const AMBIENT_SCHEMES = new Set(['basic', 'digest', 'negotiate', 'ntlm'])
const SECRET_BYTES = 32
const TOKEN_CHARS = Math.ceil((SECRET_BYTES * 2 * 4) / 3)
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/
const TOKEN_RE = /^[A-Za-z0-9_-]+$/

/**
 * Cross-site request forgery protection for every unsafe method (not GET, HEAD, OPTIONS or
 * TRACE), checked in the order of Go 1.25's `CrossOriginProtection`:
 *
 * 1. `Sec-Fetch-Site: same-origin` or `none` (the user typed it) → allowed;
 * 2. an `Origin` in `trustedOrigins` (the app's and these options') → allowed;
 * 3. any other `Sec-Fetch-Site` (`same-site`, `cross-site`) → refused;
 * 4. no `Sec-Fetch-Site` (an old browser, plain HTTP on a LAN address): the `Origin`, else
 *    the `Referer`'s origin, must be the request's own (`c.req.origin`, through trusted
 *    proxies);
 * 5. neither header: the request must carry the session's token, in the `_csrf` form field
 *    (`{{ csrf_field() }}`) or the `X-CSRF-Token` header (`c.csrfToken()`); this step needs
 *    `session()` installed before `csrf()`.
 *
 * A refusal is a 403 that names the check that failed; the handler never runs, so nothing
 * stored changes. Requests carrying an `Authorization` header of a scheme browsers do not
 * send by themselves (`Bearer`, `Token`…) and no `Cookie` are not checked: no ambient
 * credential rides on them.
 *
 * @example
 * app.use(session())
 * app.use(csrf())
 * app.get('/note', (c) => c.render('note.html'))   // <form method="post">{{ csrf_field() }} …
 * app.post('/note', async (c) => { … })            // only same-origin posts get here
 */
export function csrf(options: CsrfOptions = {}): Middleware & { readonly pluginName: 'csrf' } {
  const extra = (options.trustedOrigins ?? []).map(toOrigin)
  const exempt = compileExempt(options.exempt)
  // Marked, so `app.plugin('csrf')` finds it (crud() and admin() check for it at startup).
  return Object.assign(function csrfProtection(c: Context<any>, next: () => Promise<void>) {
    c.provide('csrf', new RequestCsrf(c))
    if (SAFE_METHODS.has(c.req.method) || (exempt !== null && exempt(c)) || isTokenAuthenticated(c)) return next()
    const verdict = checkOrigin(c, extra)
    if (verdict === ALLOW) return next()
    if (verdict !== TOKEN) throw verdict
    return checkToken(c).then(() => next())
  }, { pluginName: 'csrf' as const })
}

const ALLOW = 1
const TOKEN = 2

/** Steps 1 to 4: allowed, refused (the error to throw), or on to the token (step 5). */
function checkOrigin(c: Context<any>, extra: readonly string[]): typeof ALLOW | typeof TOKEN | HttpError {
  const site = c.req.header('sec-fetch-site')
  if (site === 'same-origin' || site === 'none') return ALLOW
  const origin = c.req.header('origin')
  if (origin !== undefined && isTrusted(c, normalizeOrigin(origin), extra)) return ALLOW
  if (site !== undefined) {
    return refuse('ERR_CSRF_SEC_FETCH_SITE', `cross-site request refused: Sec-Fetch-Site is ${site}${origin === undefined ? '' : `, and Origin ${origin} is not in trustedOrigins`}`)
  }
  const own = normalizeOrigin(c.req.origin)
  if (origin !== undefined) {
    if (normalizeOrigin(origin) === own) return ALLOW
    return refuse('ERR_CSRF_ORIGIN', `cross-origin request refused: Origin ${origin} is not this site's origin ${own} and not in trustedOrigins${schemeHint(normalizeOrigin(origin), own)}`)
  }
  const referer = c.req.header('referer')
  if (referer !== undefined) {
    const from = normalizeOrigin(referer)
    if (from === own || isTrusted(c, from, extra)) return ALLOW
    return refuse('ERR_CSRF_REFERER', `cross-origin request refused: the Referer's origin ${from ?? '(unreadable)'} is not this site's origin ${own} and not in trustedOrigins${schemeHint(from, own)}`)
  }
  return TOKEN
}

/** Step 5: the submitted token must unmask to this session's secret. */
async function checkToken(c: Context<any>): Promise<void> {
  const session = c.battery('session')
  if (session === undefined) {
    throw new HttpError(500, 'CSRF check impossible: the request has no Sec-Fetch-Site, Origin or Referer header, so it must carry a CSRF token, and tokens live in the session, but no session middleware ran before csrf(): add app.use(session()) (from \'carafe/session\') before app.use(csrf())', { code: 'ERR_CSRF_NO_SESSION' })
  }
  const secret = readSecret(session)
  let sent = c.req.header(CSRF_HEADER)
  if (sent === undefined) {
    const type = c.req.contentType
    // The form is parsed once and cached on the request, so the handler reads it again for free.
    if (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data') sent = (await c.req.form()).text(CSRF_FIELD)
  }
  if (sent === undefined || sent === '') {
    throw refuse('ERR_CSRF_TOKEN_MISSING', `CSRF token missing: the request has no Sec-Fetch-Site, Origin or Referer header, so it must send the session's token in the ${CSRF_FIELD} form field ({{ csrf_field() }}) or the X-CSRF-Token header (c.csrfToken())`)
  }
  if (secret === null) {
    throw refuse('ERR_CSRF_TOKEN_INVALID', 'CSRF token invalid: this session was never given a CSRF token (an expired or new session); reload the form and send it again')
  }
  if (!tokenMatches(sent, secret)) {
    throw refuse('ERR_CSRF_TOKEN_INVALID', 'CSRF token invalid: the token does not belong to this session; reload the form and send it again')
  }
}

/** What `c.csrfToken()` and the template globals call: a fresh mask over the session's secret. */
class RequestCsrf implements CsrfHandle {
  readonly #c: Context<any>
  #secret: Buffer | null = null

  constructor(c: Context<any>) {
    this.#c = c
  }

  token(): string {
    if (this.#secret === null) {
      const session = this.#c.battery('session')
      if (session === undefined) throw new CarafeError('ERR_NO_SESSION', "CSRF tokens live in the session: add app.use(session()) (from 'carafe/session') before app.use(csrf())")
      let secret = readSecret(session)
      if (secret === null) {
        secret = randomBytes(SECRET_BYTES)
        session.set(CSRF_SESSION_KEY, secret.toString('base64url'))
      }
      this.#secret = secret
    }
    return maskToken(this.#secret)
  }
}

function readSecret(session: Session): Buffer | null {
  const v = session.get(CSRF_SESSION_KEY)
  return typeof v === 'string' && SECRET_RE.test(v) ? Buffer.from(v, 'base64url') : null
}

/**
 * BREACH: a compressed page that reflects attacker-chosen text next to a constant secret
 * leaks the secret byte by byte through the response size. So the token is never the secret
 * itself but `mask ‖ (mask XOR secret)` with a fresh random mask per call: every rendering
 * differs, and each one unmasks to the same secret.
 */
export function maskToken(secret: Buffer): string {
  const out = randomBytes(SECRET_BYTES * 2)
  for (let i = 0; i < SECRET_BYTES; i++) out[SECRET_BYTES + i] = out[i]! ^ secret[i]!
  return out.toString('base64url')
}

/** True when `token` unmasks to `secret`; compared in constant time. */
export function tokenMatches(token: string, secret: Buffer): boolean {
  if (token.length !== TOKEN_CHARS || !TOKEN_RE.test(token) || secret.length !== SECRET_BYTES) return false
  const raw = Buffer.from(token, 'base64url')
  if (raw.length !== SECRET_BYTES * 2) return false
  const unmasked = Buffer.allocUnsafe(SECRET_BYTES)
  for (let i = 0; i < SECRET_BYTES; i++) unmasked[i] = raw[i]! ^ raw[SECRET_BYTES + i]!
  return timingSafeEqual(unmasked, secret)
}

/**
 * A request authenticated by a token the client adds itself (`Authorization: Bearer …`) and
 * carrying no cookie cannot be forged cross-site: a browser never attaches either on its
 * own. Basic, Digest, Negotiate and NTLM credentials are the exception: browsers resend them
 * automatically once entered, so those requests stay checked.
 */
function isTokenAuthenticated(c: Context<any>): boolean {
  const auth = c.req.header('authorization')
  if (auth === undefined || c.req.header('cookie') !== undefined) return false
  const space = auth.indexOf(' ')
  const scheme = (space < 0 ? auth : auth.slice(0, space)).trim().toLowerCase()
  return scheme !== '' && !AMBIENT_SCHEMES.has(scheme)
}

function isTrusted(c: Context<any>, origin: string | null, extra: readonly string[]): boolean {
  return origin !== null && (c.req.settings.trustedOrigins.includes(origin) || extra.includes(origin))
}

/** `scheme://host[:port]` of an origin or URL (lower-case host, default port dropped), or `null` (`Origin: null`, garbage). */
function normalizeOrigin(value: string): string | null {
  if (value === 'null') return null
  try {
    const o = new URL(value).origin
    return o === 'null' ? null : o
  } catch {
    return null
  }
}

/** A TLS-terminating proxy that is not trusted makes an https page post to an "http" origin. */
function schemeHint(from: string | null, own: string | null): string {
  if (from === null || own === null) return ''
  if (from.replace(/^https:/, 'http:') !== own.replace(/^https:/, 'http:')) return ''
  return ' (only the scheme differs: behind a proxy that terminates TLS, set the app\'s trustProxy option so the request\'s scheme is known)'
}

function refuse(code: string, message: string): HttpError {
  return new HttpError(403, message, { code })
}

/** The `exempt` option as a test of the context, or `null` when nothing is exempt. */
function compileExempt(exempt: CsrfOptions['exempt']): ((c: Context) => boolean) | null {
  if (exempt === undefined) return null
  if (typeof exempt === 'function') return exempt
  if (exempt.length === 0) return null
  const rules = exempt.map((entry) => {
    if (typeof entry !== 'string' || !entry.startsWith('/')) throw new TypeError(`csrf({ exempt }): ${JSON.stringify(entry)} must be a path starting with "/" (or "/prefix/*" for a subtree)`)
    const tree = entry.endsWith('/*')
    return { tree, segs: prefixSegments(tree ? entry.slice(0, -2) || '/' : entry) }
  })
  return (c) => rules.some(({ tree, segs }) => {
    if (!c.hasPathPrefix(segs)) return false
    if (tree) return true
    const rest = c.pathSegments().length - segs.length
    return rest === 0 || (rest === 1 && c.pathSegments()[segs.length] === '')
  })
}
