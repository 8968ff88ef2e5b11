// Conduit's JSON API, as RealWorld's openapi.yml says: everything under /api, JSON in and
// out (`application/json; charset=utf-8`), `Authorization: Token <jwt>`, and every error,
// Carafe's own included, as `{"errors": {"field": ["message"]}}`: 422 for invalid input,
// 401 when a token is needed and missing or bad, 403 for someone else's article or comment,
// 404 for what is not there.
//
// The API authenticates by token only. The page session's cookie rides on every request a
// browser sends here, from any site, and /api/* is exempt from CSRF checks (app.ts), so
// acting on it would let another site write in the user's name: a request that is not
// signed in by its token is anonymous here, whatever its cookies say.
import { Carafe, cors, isHttpError, HttpError, STATUS_TEXT, type Context, type Middleware } from 'carafe'
import { hashPassword, issueToken, verifyPassword, type RateLimiter } from 'carafe/auth'
import type { Database } from 'carafe/db'
import {
  addComment, articleRef, createArticle, createUser, deleteArticle, deleteComment, getArticle, getComment,
  listArticles, listComments, popularTags, profileOf, setFavorite, setFollow, taken, updateArticle, updateUser,
  userByEmail, userByUsername,
  type Article, type Comment, type DB, type User,
} from './lib/data.js'
import { publishComment } from './lib/events.js'

export interface ApiDeps { app: Carafe; db: Database<DB>; loginLimit: RateLimiter; uploads: string }

const JSON_UTF8 = 'application/json; charset=utf-8'
type Errors = Record<string, string[]>

/** An answer of the API's error shape: `{ errors }` with `status`. */
class ApiError extends HttpError {
  readonly errors: Errors
  constructor(status: number, errors: Errors, headers: Record<string, string> = {}) {
    super(status, Object.entries(errors).map(([k, v]) => `${k} ${v.join(', ')}`).join('; '), { headers })
    this.errors = errors
  }
}

const send = (c: Context<any>, value: unknown, status = 200): Context<any> => c.body(JSON.stringify(value), status, JSON_UTF8)

const TOKEN_CHALLENGE = 'Token realm="conduit"'
const notFound = (what: string): ApiError => new ApiError(404, { [what]: ['not found'] })

/**
 * Any error as the API's answer: its status, `{ errors }` and the headers it carries
 * (`Allow` on a 405, `Retry-After` on a 429). A validation failure keeps its fields; any
 * other HTTP error says its message under `body` (the key the spec's GenericErrorModel
 * has); anything else is a 500 that says nothing about its cause (it is logged).
 */
function errorAnswer(c: Context<any>, e: unknown): { status: number; errors: Errors; headers: Record<string, string> } {
  if (e instanceof ApiError) return { status: e.status, errors: e.errors, headers: e.headers }
  if (isHttpError(e)) {
    const issues = (e as { issues?: unknown }).issues
    if (Array.isArray(issues) && issues.length > 0) {
      const errors: Errors = {}
      for (const i of issues as Array<{ path: string; message: string }>) (errors[i.path === '' ? 'body' : i.path] ??= []).push(i.message)
      return { status: e.status === 400 ? 422 : e.status, errors, headers: e.headers }
    }
    return { status: e.status, errors: { body: [e.message] }, headers: e.headers }
  }
  if (c.app.log?.configured === true) c.log.error('API request failed', { error: e })
  else console.error(`[conduit] ${c.req.method} ${c.req.path} failed:`, e)
  return { status: 500, errors: { body: ['the server hit an error and could not finish the request'] }, headers: {} }
}

function answerError(c: Context<any>, e: unknown): Context<any> {
  const { status, errors, headers } = errorAnswer(c, e)
  for (const [k, v] of Object.entries(headers)) c.header(k, v)
  return send(c, { errors }, status)
}

/**
 * What the parent app runs first on /api/* (app.ts: `app.use('/api', apiFront())`, before
 * its session and auth): CORS for any origin (preflights answered, `Authorization` and
 * `Content-Type` allowed), and the API's error shape on what the middleware in front of the
 * mounted API answers or throws itself: auth()'s 401 for a bad token, a 404 for a path the
 * mount refuses, a session store that fails. JSON answers get `charset=utf-8`.
 */
export function apiFront(): Middleware {
  const allowCors = cors({ origin: '*', allowHeaders: ['Content-Type', 'Authorization', 'X-Requested-With'], allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], maxAge: 600 })
  async function shape(c: Context<any>, next: () => Promise<unknown>): Promise<void> {
    try {
      await next()
    } catch (e) {
      c.resetResponse()
      answerError(c, e)
      return
    }
    const status = c.statusCode
    const type = c.contentType ?? ''
    if (status >= 400 && !hasErrors(c)) {
      let message = STATUS_TEXT[status] ?? 'Error'
      let key = 'body'
      if (type.startsWith('application/json') && typeof c.responseBody === 'string') {
        try {
          const parsed = JSON.parse(c.responseBody) as { message?: unknown; reason?: unknown }
          if (typeof parsed.message === 'string') message = parsed.message
          // auth()'s answer to a token that does not verify: { reason: 'invalid' | 'expired' | 'revoked' }.
          if (status === 401 && typeof parsed.reason === 'string') {
            key = 'token'
            message = parsed.reason === 'expired' ? 'has expired' : parsed.reason === 'revoked' ? 'was revoked' : 'is invalid'
          }
        } catch { /* not JSON after all: keep the reason phrase */ }
      }
      send(c, { errors: { [key]: [message] } }, status)
    } else if (type === 'application/json') {
      c.header('content-type', JSON_UTF8)
    }
  }
  return (c, next) => allowCors(c, () => shape(c, next))
}

/**
 * For the parent app's `onError`: a request to /api/* that failed before any middleware
 * ran (a malformed percent-encoding, a refused Host) gets the API's `{ errors }` (and CORS)
 * too; anything else is handed back (returned as is) to the app's default handling.
 */
export function apiOnError(e: unknown, c: Context<any>): unknown {
  const p = c.req.path
  if (p !== '/api' && !p.startsWith('/api/')) return e
  c.header('access-control-allow-origin', '*')
  return answerError(c, e)
}

function hasErrors(c: Context<any>): boolean {
  if (!(c.contentType ?? '').startsWith('application/json') || typeof c.responseBody !== 'string') return false
  try {
    const v = JSON.parse(c.responseBody) as { errors?: unknown }
    return typeof v.errors === 'object' && v.errors !== null && !Array.isArray(v.errors)
  } catch {
    return false
  }
}

// ---- who is asking -----------------------------------------------------------------------

/** The user this request's token signs in, or `null` (a session cookie does not count: see the top). */
function viewer(c: Context<any>): User | null {
  return c.authMethod === 'token' ? c.user : null
}

function needUser(c: Context<any>): User {
  const user = viewer(c)
  if (user === null) throw new ApiError(401, { token: ['is missing: sign in and send "Authorization: Token <jwt>"'] }, { 'www-authenticate': TOKEN_CHALLENGE })
  return user
}

// ---- input -------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
/** Length in characters (code points), as PostgreSQL and MariaDB count a varchar's. */
const chars = (s: string): number => [...s].length
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/** The JSON body's `wrapper` object (`{ "user": { … } }`); 422 when the body is not JSON or has no such object. */
async function input(c: Context<any>, wrapper: string): Promise<Record<string, unknown>> {
  let data: unknown
  try {
    data = await c.req.json()
  } catch (e) {
    if (isHttpError(e) && e.status === 400) throw new ApiError(422, { body: [e.message] })
    throw e
  }
  if (!isObject(data)) throw new ApiError(422, { body: [`must be a JSON object with a "${wrapper}" object in it`] })
  const inner = data[wrapper]
  if (!isObject(inner)) throw new ApiError(422, { [wrapper]: [inner === undefined || inner === null ? "can't be blank" : 'must be an object'] })
  return inner
}

/** Collects the problems of one request's fields, as `{ field: [messages] }`. */
class Checker {
  readonly errors: Errors = {}
  constructor(readonly data: Record<string, unknown>) {}

  add(field: string, message: string): void {
    ;(this.errors[field] ??= []).push(message)
  }

  /**
   * A text field: trimmed (unless `raw`), at most `max` characters. `required` makes a
   * missing, null or blank one an error; otherwise a missing one is `undefined`, and
   * `nullable` lets null (or blank) through as `null`.
   */
  text(field: string, o: { required?: boolean; max: number; maxBytes?: number; raw?: boolean; nullable?: boolean; min?: number }): string | null | undefined {
    const v = this.data[field]
    if (v === undefined || (v === null && !o.nullable)) {
      if (o.required === true || v === null) this.add(field, "can't be blank")
      return undefined
    }
    if (v === null) return null
    if (typeof v !== 'string') {
      this.add(field, 'must be a string')
      return undefined
    }
    const s = o.raw === true ? v : v.trim()
    if (s.trim() === '') {
      if (o.nullable === true) return null
      this.add(field, "can't be blank")
      return undefined
    }
    if (chars(s) > o.max) this.add(field, `is too long (maximum is ${o.max} characters)`)
    else if (o.maxBytes !== undefined && Buffer.byteLength(s) > o.maxBytes) this.add(field, `is too long (maximum is ${o.maxBytes} bytes of UTF-8)`)
    else if (o.min !== undefined && chars(s) < o.min) this.add(field, `is too short (minimum is ${o.min} characters)`)
    return s
  }

  done(): void {
    if (Object.keys(this.errors).length > 0) throw new ApiError(422, this.errors)
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/

function checkEmail(k: Checker, email: string | null | undefined): void {
  if (typeof email === 'string' && !EMAIL.test(email)) k.add('email', 'is invalid')
}

function checkUsername(k: Checker, username: string | null | undefined): void {
  // It is a path segment of /api/profiles/<username> and of the pages' URLs: no slashes, spaces or controls, not `.` or `..`.
  if (typeof username === 'string' && (/[/\\]/.test(username) || CONTROL.test(username) || /\s/.test(username) || /^\.+$/.test(username))) k.add('username', 'is invalid')
}

/**
 * An avatar: an http(s) URL, or a picture uploaded here (`/uploads/…`). The pages put it in
 * `<img src>`, so nothing else (no `javascript:`, no `data:`, no `//other.host`).
 */
function checkImage(k: Checker, image: string | null | undefined): void {
  if (typeof image !== 'string') return
  if (CONTROL.test(image) || /[\s"'<>\\]/.test(image)) return k.add('image', 'is invalid')
  if (image.startsWith('/uploads/')) {
    if (image.includes('..') || image.includes('//')) k.add('image', 'is invalid')
    return
  }
  let url: URL
  try {
    url = new URL(image)
  } catch {
    return k.add('image', 'must be an http(s) URL or an uploaded picture (/uploads/…)')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') k.add('image', 'must be an http(s) URL or an uploaded picture (/uploads/…)')
}

/** `?limit=` and `?offset=`: whole numbers ≥ 0 (limit at most 100, as the data layer caps it); 422 otherwise. */
function paging(c: Context<any>): { limit: number; offset: number } {
  const errors: Errors = {}
  const read = (name: string, fallback: number): number => {
    const raw = c.query(name)
    if (raw === undefined || raw === '') return fallback
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN
    if (!Number.isSafeInteger(n)) errors[name] = ['must be a whole number, 0 or more']
    return n
  }
  const limit = read('limit', 20)
  const offset = read('offset', 0)
  if (Object.keys(errors).length > 0) throw new ApiError(422, errors)
  return { limit, offset }
}

/** A query filter: absent or empty is no filter. */
const filter = (c: Context<any>, name: string): string | undefined => {
  const v = c.query(name)
  return v === undefined || v === '' ? undefined : v
}

// ---- output ------------------------------------------------------------------------------

const userOut = (user: User, token: string) => ({ user: { email: user.email, token, username: user.username, bio: user.bio, image: user.image } })

/** The spec's article: its fields in its order, without the row id (and without `body` in lists). */
function articleOut(a: Article): Record<string, unknown> {
  const out: Record<string, unknown> = { slug: a.slug, title: a.title, description: a.description }
  if (a.body !== undefined) out.body = a.body
  Object.assign(out, { tagList: a.tagList, createdAt: a.createdAt, updatedAt: a.updatedAt, favorited: a.favorited, favoritesCount: a.favoritesCount, author: a.author })
  return out
}

const commentOut = (m: Comment) => ({ id: m.id, createdAt: m.createdAt, updatedAt: m.updatedAt, body: m.body, author: m.author })

/** The token this request came with (`Authorization: Token <jwt>`). */
function presentedToken(c: Context<any>): string {
  const h = c.req.header('authorization') ?? ''
  return h.slice(h.indexOf(' ') + 1).trim()
}

// ---- the API -----------------------------------------------------------------------------

export function api(deps: ApiDeps): Carafe {
  const { app: site, loginLimit } = deps
  const db = deps.db.kysely
  const api = new Carafe()

  api.onError((e, c) => answerError(c, e))
  api.notFound((c) => send(c, { errors: { body: [`no such API endpoint: ${c.req.method} ${c.req.path}`] } }, 404))

  // ---- users ----

  api.post('/users/login', loginLimit, async function login(c) {
    const k = new Checker(await input(c, 'user'))
    const email = k.text('email', { required: true, max: 255 })
    const password = k.text('password', { required: true, max: 1024, raw: true })
    k.done()
    const user = await userByEmail(db, email!)
    // verifyPassword takes as long for an unknown email as for a wrong password.
    const ok = await verifyPassword(user?.passwordHash, password!)
    if (user === undefined || !ok) throw new ApiError(401, { credentials: ['invalid'] })
    return send(c, userOut(user, await issueToken(c, user)))
  })

  api.post('/users', async function register(c) {
    const k = new Checker(await input(c, 'user'))
    const username = k.text('username', { required: true, max: 64 })
    const email = k.text('email', { required: true, max: 255 })
    const password = k.text('password', { required: true, max: 1024, min: 8, raw: true })
    checkUsername(k, username)
    checkEmail(k, email)
    k.done()
    const clash = async (): Promise<void> => {
      const t = await taken(db, { email: email!, username: username! })
      if (t.email === true) k.add('email', 'has already been taken')
      if (t.username === true) k.add('username', 'has already been taken')
      k.done()
    }
    await clash()
    let user: User
    try {
      user = await createUser(db, { email: email!, username: username!, passwordHash: await hashPassword(password!) })
    } catch (e) {
      await clash() // a twin request won the race for the name: the same 422
      throw e
    }
    return send(c, userOut(user, await issueToken(c, user)), 201)
  })

  api.get('/user', function currentUser(c) {
    const user = needUser(c)
    return send(c, userOut(user, presentedToken(c)))
  })

  api.put('/user', async function updateCurrentUser(c) {
    const me = needUser(c)
    const data = await input(c, 'user')
    const k = new Checker(data)
    const email = k.text('email', { max: 255 })
    const username = k.text('username', { max: 64 })
    const password = k.text('password', { max: 1024, min: 8, raw: true })
    const bio = k.text('bio', { max: 10_000, maxBytes: 65_535, nullable: true, raw: true })
    const image = k.text('image', { max: 500, nullable: true })
    checkUsername(k, username)
    checkEmail(k, email)
    checkImage(k, image)
    if (!['email', 'username', 'password', 'bio', 'image'].some((f) => f in data)) k.add('user', 'needs at least one of email, username, password, bio and image')
    k.done()
    const t = await taken(db, { email: email ?? undefined, username: username ?? undefined }, me.id)
    if (t.email === true) k.add('email', 'has already been taken')
    if (t.username === true) k.add('username', 'has already been taken')
    k.done()
    const patch: Parameters<typeof updateUser>[2] = {}
    if (typeof email === 'string') patch.email = email
    if (typeof username === 'string') patch.username = username
    if (typeof password === 'string') patch.passwordHash = await hashPassword(password)
    if (bio !== undefined) patch.bio = bio
    if (image !== undefined) patch.image = image
    let user: User
    try {
      user = await updateUser(db, me.id, patch)
    } catch (e) {
      const again = await taken(db, { email: patch.email, username: patch.username }, me.id)
      if (again.email === true) k.add('email', 'has already been taken')
      if (again.username === true) k.add('username', 'has already been taken')
      k.done()
      throw e
    }
    // A new token: a new password ends the old ones (their session version is stale).
    return send(c, userOut(user, await issueToken(c, user)))
  })

  // ---- profiles ----

  const profileUser = async (username: string): Promise<User> => {
    const user = await userByUsername(db, username)
    if (user === undefined) throw notFound('profile')
    return user
  }

  api.get('/profiles/<username>', async function profile(c) {
    const user = await profileUser(c.params.username)
    return send(c, { profile: await profileOf(db, user, viewer(c)?.id ?? null) })
  })

  api.post('/profiles/<username>/follow', async function follow(c) {
    const me = needUser(c)
    const user = await profileUser(c.params.username)
    await setFollow(db, me.id, user.id, true)
    return send(c, { profile: await profileOf(db, user, me.id) })
  })

  api.delete('/profiles/<username>/follow', async function unfollow(c) {
    const me = needUser(c)
    const user = await profileUser(c.params.username)
    await setFollow(db, me.id, user.id, false)
    return send(c, { profile: await profileOf(db, user, me.id) })
  })

  // ---- articles ----

  api.get('/articles', async function articles(c) {
    const { limit, offset } = paging(c)
    const found = await listArticles(db, { tag: filter(c, 'tag'), author: filter(c, 'author'), favorited: filter(c, 'favorited'), limit, offset }, viewer(c)?.id ?? null)
    return send(c, { articles: found.articles.map(articleOut), articlesCount: found.articlesCount })
  })

  api.get('/articles/feed', async function feed(c) {
    const me = needUser(c)
    const { limit, offset } = paging(c)
    const found = await listArticles(db, { feedOf: me.id, limit, offset }, me.id)
    return send(c, { articles: found.articles.map(articleOut), articlesCount: found.articlesCount })
  })

  const TITLE = { max: 255 }
  const DESCRIPTION = { max: 1000 }
  // A `text` column holds 65535 bytes on MariaDB (more on SQLite and PostgreSQL): the same limit everywhere.
  const BODY = { max: 65_535, maxBytes: 65_535, raw: true }

  /** `tagList`: an array of strings (each trimmed, at most 100 characters; blanks and repeats dropped by the data layer). */
  function tagList(k: Checker): string[] | undefined {
    const v = k.data.tagList
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) {
      k.add('tagList', 'must be an array of strings')
      return undefined
    }
    const tags = v as string[]
    if (tags.length > 50) k.add('tagList', 'has too many tags (maximum is 50)')
    if (tags.some((t) => chars(t.trim()) > 100)) k.add('tagList', 'has a tag that is too long (maximum is 100 characters)')
    if (tags.some((t) => CONTROL.test(t))) k.add('tagList', 'has a tag with control characters')
    return tags
  }

  const articleBySlug = async (slug: string, viewerId: number | null): Promise<Article> => {
    const a = await getArticle(db, slug, viewerId)
    if (a === undefined) throw notFound('article')
    return a
  }

  /** The article at `slug` for its author to change: 404 when there is none, 403 when it is someone else's. */
  const ownArticle = async (slug: string, me: User): Promise<{ id: number }> => {
    const ref = await articleRef(db, slug)
    if (ref === undefined) throw notFound('article')
    if (ref.authorId !== me.id) throw new ApiError(403, { article: ['is not yours: only its author may change or delete it'] })
    return ref
  }

  api.post('/articles', async function create(c) {
    const me = needUser(c)
    const k = new Checker(await input(c, 'article'))
    const title = k.text('title', { required: true, ...TITLE })
    const description = k.text('description', { required: true, ...DESCRIPTION })
    const body = k.text('body', { required: true, ...BODY })
    const tags = tagList(k)
    k.done()
    const slug = await createArticle(db, me.id, { title: title!, description: description!, body: body!, tagList: tags })
    return send(c, { article: articleOut(await articleBySlug(slug, me.id)) }, 201)
  })

  api.get('/articles/<slug>', async function article(c) {
    return send(c, { article: articleOut(await articleBySlug(c.params.slug, viewer(c)?.id ?? null)) })
  })

  api.put('/articles/<slug>', async function update(c) {
    const me = needUser(c)
    const ref = await ownArticle(c.params.slug, me)
    const k = new Checker(await input(c, 'article'))
    const title = k.text('title', TITLE)
    const description = k.text('description', DESCRIPTION)
    const body = k.text('body', BODY)
    const tags = tagList(k)
    k.done()
    const patch = { title: title ?? undefined, description: description ?? undefined, body: body ?? undefined, tagList: tags }
    let slug = c.params.slug
    if (Object.values(patch).some((v) => v !== undefined)) slug = await updateArticle(db, ref.id, patch)
    return send(c, { article: articleOut(await articleBySlug(slug, me.id)) })
  })

  api.delete('/articles/<slug>', async function remove(c) {
    const me = needUser(c)
    const ref = await ownArticle(c.params.slug, me)
    await deleteArticle(db, ref.id)
    return c.body(null, 204)
  })

  api.post('/articles/<slug>/favorite', async function favorite(c) {
    const me = needUser(c)
    const ref = await articleRef(db, c.params.slug)
    if (ref === undefined) throw notFound('article')
    await setFavorite(db, me.id, ref.id, true)
    return send(c, { article: articleOut(await articleBySlug(c.params.slug, me.id)) })
  })

  api.delete('/articles/<slug>/favorite', async function unfavorite(c) {
    const me = needUser(c)
    const ref = await articleRef(db, c.params.slug)
    if (ref === undefined) throw notFound('article')
    await setFavorite(db, me.id, ref.id, false)
    return send(c, { article: articleOut(await articleBySlug(c.params.slug, me.id)) })
  })

  // ---- comments ----

  const refOf = async (slug: string): Promise<{ id: number; authorId: number }> => {
    const ref = await articleRef(db, slug)
    if (ref === undefined) throw notFound('article')
    return ref
  }

  api.get('/articles/<slug>/comments', async function comments(c) {
    const ref = await refOf(c.params.slug)
    return send(c, { comments: (await listComments(db, ref.id, viewer(c)?.id ?? null)).map(commentOut) })
  })

  api.post('/articles/<slug>/comments', async function comment(c) {
    const me = needUser(c)
    const ref = await refOf(c.params.slug)
    const k = new Checker(await input(c, 'comment'))
    const body = k.text('body', { required: true, max: 20_000, maxBytes: 65_535, raw: true })
    k.done()
    const id = await addComment(db, ref.id, me.id, body!)
    const made = commentOut((await getComment(db, id, me.id))!)
    // The live article pages show it (to every reader: `following` is theirs to work out, so false).
    await publishComment(site, ref.id, { event: 'comment', comment: { ...made, author: { ...made.author, following: false } } })
    return send(c, { comment: made })
  })

  api.delete('/articles/<slug>/comments/<id>', async function uncomment(c) {
    const me = needUser(c)
    const ref = await refOf(c.params.slug)
    const id = /^\d{1,15}$/.test(c.params.id) ? Number(c.params.id) : NaN
    const found = Number.isSafeInteger(id) ? await getComment(db, id, me.id) : undefined
    if (found === undefined || found.articleId !== ref.id) throw notFound('comment')
    if (found.authorId !== me.id) throw new ApiError(403, { comment: ['is not yours: only its author may delete it'] })
    await deleteComment(db, id)
    await publishComment(site, ref.id, { event: 'uncomment', id })
    return c.body(null, 204)
  })

  // ---- tags ----

  api.get('/tags', async function tags(c) {
    return send(c, { tags: await popularTags(db) })
  })

  return api
}
