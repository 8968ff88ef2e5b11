// Conduit's data: the tables' types and every query the API and the pages make, in one
// place, so both doors (and the Fastify twin in bench/) ask the database the same things.
// Works on SQLite, PostgreSQL and MariaDB through carafe/db (Kysely).
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { dialectOf } from 'carafe/db'

export interface DB {
  users: { id: number; email: string; username: string; password_hash: string; bio: string | null; image: string | null; roles: string; created_at: string }
  follows: { follower_id: number; followed_id: number }
  articles: { id: number; slug: string; title: string; description: string; body: string; author_id: number; created_at: string; updated_at: string }
  article_tags: { article_id: number; tag: string; position: number }
  favorites: { user_id: number; article_id: number }
  comments: { id: number; article_id: number; author_id: number; body: string; created_at: string; updated_at: string }
}

export type Db = Kysely<DB>
export type UserRow = DB['users']

/** The signed-in user, as `c.user`. */
export interface User {
  id: number
  email: string
  username: string
  name: string
  bio: string | null
  image: string | null
  passwordHash: string
  roles: string[]
}

export interface Profile { username: string; bio: string | null; image: string | null; following: boolean }

export interface Article {
  id: number
  slug: string
  title: string
  description: string
  /** Only on a single article (the lists leave it out, as the spec says since 2024). */
  body?: string
  tagList: string[]
  createdAt: string
  updatedAt: string
  favorited: boolean
  favoritesCount: number
  author: Profile
}

export interface Comment { id: number; createdAt: string; updatedAt: string; body: string; author: Profile }

export const now = (): string => new Date().toISOString()

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, username: row.username, name: row.username, bio: row.bio, image: row.image, passwordHash: row.password_hash, roles: JSON.parse(row.roles) as string[] }
}

// ---- users and profiles ------------------------------------------------------------------

export async function userById(db: Db, id: number): Promise<User | undefined> {
  if (!Number.isSafeInteger(id)) return undefined
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
  return row === undefined ? undefined : toUser(row)
}

export async function userByEmail(db: Db, email: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst()
  return row === undefined ? undefined : toUser(row)
}

export async function userByUsername(db: Db, username: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst()
  return row === undefined ? undefined : toUser(row)
}

/** Which of `email` and `username` another user (not `exceptId`) already has. */
export async function taken(db: Db, fields: { email?: string | undefined; username?: string | undefined }, exceptId?: number): Promise<{ email?: boolean; username?: boolean }> {
  const out: { email?: boolean; username?: boolean } = {}
  for (const key of ['email', 'username'] as const) {
    const value = fields[key]
    if (value === undefined) continue
    let q = db.selectFrom('users').select('id').where(key, '=', key === 'email' ? value.trim().toLowerCase() : value)
    if (exceptId !== undefined) q = q.where('id', '<>', exceptId)
    if (await q.executeTakeFirst() !== undefined) out[key] = true
  }
  return out
}

export async function createUser(db: Db, u: { email: string; username: string; passwordHash: string; bio?: string | null; image?: string | null; roles?: string[] }): Promise<User> {
  await db.insertInto('users').values({
    email: u.email.trim().toLowerCase(), username: u.username, password_hash: u.passwordHash,
    bio: u.bio ?? null, image: u.image ?? null, roles: JSON.stringify(u.roles ?? []), created_at: now(),
  } as never).execute()
  return (await userByUsername(db, u.username))!
}

export async function updateUser(db: Db, id: number, patch: { email?: string; username?: string; passwordHash?: string; bio?: string | null; image?: string | null }): Promise<User> {
  const set: Partial<UserRow> = {}
  if (patch.email !== undefined) set.email = patch.email.trim().toLowerCase()
  if (patch.username !== undefined) set.username = patch.username
  if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash
  if (patch.bio !== undefined) set.bio = patch.bio
  if (patch.image !== undefined) set.image = patch.image
  if (Object.keys(set).length > 0) await db.updateTable('users').set(set).where('id', '=', id).execute()
  return (await userById(db, id))!
}

export async function isFollowing(db: Db, followerId: number | null, followedId: number): Promise<boolean> {
  if (followerId === null) return false
  return await db.selectFrom('follows').select('followed_id').where('follower_id', '=', followerId).where('followed_id', '=', followedId).executeTakeFirst() !== undefined
}

export async function profileOf(db: Db, user: User, viewerId: number | null): Promise<Profile> {
  return { username: user.username, bio: user.bio, image: user.image, following: await isFollowing(db, viewerId, user.id) }
}

/** Follow (or, with `on` false, unfollow) a user; following yourself is a no-op. */
export async function setFollow(db: Db, followerId: number, followedId: number, on: boolean): Promise<void> {
  if (on) {
    if (followerId === followedId || await isFollowing(db, followerId, followedId)) return
    await db.insertInto('follows').values({ follower_id: followerId, followed_id: followedId }).execute().catch(async (e: unknown) => {
      if (!await isFollowing(db, followerId, followedId)) throw e // a race with the same follow is fine
    })
  } else {
    await db.deleteFrom('follows').where('follower_id', '=', followerId).where('followed_id', '=', followedId).execute()
  }
}

// ---- articles ----------------------------------------------------------------------------

export interface ArticleQuery {
  tag?: string | undefined
  author?: string | undefined
  favorited?: string | undefined
  /** Only articles by the users this user follows (the feed). */
  feedOf?: number | undefined
  limit?: number | undefined
  offset?: number | undefined
}

type Listed = { id: number; slug: string; title: string; description: string; body?: string; created_at: string; updated_at: string; author_id: number; username: string; bio: string | null; image: string | null; favorites_count: number | string | bigint; favorited: number | boolean | string | null; following: number | boolean | string | null }

function articleSelect(db: Db, viewerId: number | null, withBody: boolean) {
  const v = viewerId ?? -1 // no user has id -1: the exists() are false for a visitor
  return db.selectFrom('articles as a')
    .innerJoin('users as u', 'u.id', 'a.author_id')
    .select(['a.id', 'a.slug', 'a.title', 'a.description', 'a.created_at', 'a.updated_at', 'a.author_id', 'u.username', 'u.bio', 'u.image'])
    .$if(withBody, (q) => q.select('a.body'))
    .select((eb) => [
      eb.selectFrom('favorites as fc').select(eb.fn.countAll().as('n')).whereRef('fc.article_id', '=', 'a.id').as('favorites_count'),
      eb.exists(eb.selectFrom('favorites as fv').select('fv.user_id').whereRef('fv.article_id', '=', 'a.id').where('fv.user_id', '=', v)).as('favorited'),
      eb.exists(eb.selectFrom('follows as fo').select('fo.follower_id').whereRef('fo.followed_id', '=', 'a.author_id').where('fo.follower_id', '=', v)).as('following'),
    ])
}

const truthy = (x: unknown): boolean => x === true || x === 1 || x === '1' || x === 't'

async function withTags(db: Db, rows: Listed[]): Promise<Article[]> {
  const tags = new Map<number, string[]>()
  if (rows.length > 0) {
    const found = await db.selectFrom('article_tags').select(['article_id', 'tag']).where('article_id', 'in', rows.map((r) => r.id)).orderBy('article_id').orderBy('position').execute()
    for (const t of found) {
      const list = tags.get(t.article_id)
      if (list === undefined) tags.set(t.article_id, [t.tag])
      else list.push(t.tag)
    }
  }
  return rows.map((r) => {
    const a: Article = {
      id: r.id, slug: r.slug, title: r.title, description: r.description,
      tagList: tags.get(r.id) ?? [], createdAt: r.created_at, updatedAt: r.updated_at,
      favorited: truthy(r.favorited), favoritesCount: Number(r.favorites_count),
      author: { username: r.username, bio: r.bio, image: r.image, following: truthy(r.following) },
    }
    if (r.body !== undefined) a.body = r.body
    return a
  })
}

/** Articles, newest first, filtered by tag, author, who favorited them or whom the viewer follows; and how many match. */
export async function listArticles(db: Db, query: ArticleQuery, viewerId: number | null): Promise<{ articles: Article[]; articlesCount: number }> {
  const filter = <Q extends ReturnType<typeof articleSelect> | ReturnType<typeof countSelect>>(q: Q): Q => {
    let out = q as ReturnType<typeof articleSelect>
    if (query.tag !== undefined) out = out.where((eb) => eb.exists(eb.selectFrom('article_tags as t').select('t.article_id').whereRef('t.article_id', '=', 'a.id').where('t.tag', '=', query.tag!)))
    if (query.author !== undefined) out = out.where('u.username', '=', query.author)
    if (query.favorited !== undefined) out = out.where((eb) => eb.exists(eb.selectFrom('favorites as ff').innerJoin('users as fu', 'fu.id', 'ff.user_id').select('ff.user_id').whereRef('ff.article_id', '=', 'a.id').where('fu.username', '=', query.favorited!)))
    if (query.feedOf !== undefined) out = out.where((eb) => eb.exists(eb.selectFrom('follows as fd').select('fd.followed_id').whereRef('fd.followed_id', '=', 'a.author_id').where('fd.follower_id', '=', query.feedOf!)))
    return out as unknown as Q
  }
  const limit = Math.min(Math.max(query.limit ?? 20, 0), 100)
  const offset = Math.max(query.offset ?? 0, 0)
  const [rows, count] = await Promise.all([
    filter(articleSelect(db, viewerId, false)).orderBy('a.created_at', 'desc').orderBy('a.id', 'desc').limit(limit).offset(offset).execute(),
    filter(countSelect(db)).executeTakeFirstOrThrow(),
  ])
  return { articles: await withTags(db, rows as Listed[]), articlesCount: Number(count.n) }
}

function countSelect(db: Db) {
  return db.selectFrom('articles as a').innerJoin('users as u', 'u.id', 'a.author_id').select((eb) => eb.fn.countAll().as('n'))
}

/** One article with its body, or `undefined`. */
export async function getArticle(db: Db, slug: string, viewerId: number | null): Promise<Article | undefined> {
  const row = await articleSelect(db, viewerId, true).where('a.slug', '=', slug).executeTakeFirst()
  if (row === undefined) return undefined
  return (await withTags(db, [row as Listed]))[0]
}

/** The id and author of the article at `slug`, or `undefined` (for the checks before a change). */
export async function articleRef(db: Db, slug: string): Promise<{ id: number; authorId: number } | undefined> {
  const row = await db.selectFrom('articles').select(['id', 'author_id']).where('slug', '=', slug).executeTakeFirst()
  return row === undefined ? undefined : { id: row.id, authorId: row.author_id }
}

/** A URL-safe slug of a title: lower-case letters and digits of any script, joined by dashes. */
export function slugify(title: string): string {
  const s = title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 80).replace(/-+$/, '')
  return s === '' ? 'article' : s
}

/** A slug for a title that no other article (but `exceptId`) has. */
export async function uniqueSlug(db: Db, title: string, exceptId?: number): Promise<string> {
  const base = slugify(title)
  for (let i = 0; ; i++) {
    const slug = i === 0 ? base : `${base}-${randomBytes(4).toString('hex')}`
    let q = db.selectFrom('articles').select('id').where('slug', '=', slug)
    if (exceptId !== undefined) q = q.where('id', '<>', exceptId)
    if (await q.executeTakeFirst() === undefined) return slug
  }
}

/** Tags as given: trimmed, no empties, no repeats, in order. */
export function cleanTags(tags: readonly string[]): string[] {
  const out: string[] = []
  for (const t of tags) {
    const tag = t.trim()
    if (tag !== '' && !out.includes(tag)) out.push(tag)
  }
  return out
}

async function setTags(db: Db, articleId: number, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('article_tags').where('article_id', '=', articleId).execute()
  const list = cleanTags(tags)
  if (list.length > 0) await db.insertInto('article_tags').values(list.map((tag, position) => ({ article_id: articleId, tag, position }))).execute()
}

/** Run `fn` in a transaction: a new one, or the one `db` already is (the seed, a test's). */
function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn)
}

export interface ArticleInput { title: string; description: string; body: string; tagList?: readonly string[] | undefined }

/** Write a new article; its slug. */
export async function createArticle(db: Db, authorId: number, input: ArticleInput, at = now()): Promise<string> {
  return inTransaction(db, async (tx) => {
    const slug = await uniqueSlug(tx, input.title)
    await tx.insertInto('articles').values({ slug, title: input.title, description: input.description, body: input.body, author_id: authorId, created_at: at, updated_at: at } as never).execute()
    const { id } = await tx.selectFrom('articles').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
    await setTags(tx, id, input.tagList ?? [])
    return slug
  })
}

/** Change an article (a new title makes a new slug); its slug afterwards. */
export async function updateArticle(db: Db, articleId: number, patch: Partial<ArticleInput>): Promise<string> {
  return inTransaction(db, async (tx) => {
    const set: Partial<DB['articles']> = { updated_at: now() }
    if (patch.title !== undefined) {
      set.title = patch.title
      set.slug = await uniqueSlug(tx, patch.title, articleId)
    }
    if (patch.description !== undefined) set.description = patch.description
    if (patch.body !== undefined) set.body = patch.body
    await tx.updateTable('articles').set(set).where('id', '=', articleId).execute()
    if (patch.tagList !== undefined) await setTags(tx, articleId, patch.tagList)
    return (await tx.selectFrom('articles').select('slug').where('id', '=', articleId).executeTakeFirstOrThrow()).slug
  })
}

export async function deleteArticle(db: Db, articleId: number): Promise<void> {
  await db.deleteFrom('articles').where('id', '=', articleId).execute()
}

/** Favorite (or, with `on` false, unfavorite) an article. */
export async function setFavorite(db: Db, userId: number, articleId: number, on: boolean): Promise<void> {
  const has = async (): Promise<boolean> => await db.selectFrom('favorites').select('user_id').where('user_id', '=', userId).where('article_id', '=', articleId).executeTakeFirst() !== undefined
  if (on) {
    if (await has()) return
    await db.insertInto('favorites').values({ user_id: userId, article_id: articleId }).execute().catch(async (e: unknown) => {
      if (!await has()) throw e
    })
  } else {
    await db.deleteFrom('favorites').where('user_id', '=', userId).where('article_id', '=', articleId).execute()
  }
}

/** Every tag in use, the most used first. */
export async function popularTags(db: Db, limit = 1000): Promise<string[]> {
  const rows = await db.selectFrom('article_tags').select((eb) => ['tag', eb.fn.countAll().as('n')]).groupBy('tag').orderBy('n', 'desc').orderBy('tag').limit(limit).execute()
  return rows.map((r) => r.tag)
}

// ---- comments ----------------------------------------------------------------------------

function commentSelect(db: Db, viewerId: number | null) {
  const v = viewerId ?? -1
  return db.selectFrom('comments as c')
    .innerJoin('users as u', 'u.id', 'c.author_id')
    .select(['c.id', 'c.body', 'c.created_at', 'c.updated_at', 'c.author_id', 'c.article_id', 'u.username', 'u.bio', 'u.image'])
    .select((eb) => eb.exists(eb.selectFrom('follows as fo').select('fo.follower_id').whereRef('fo.followed_id', '=', 'c.author_id').where('fo.follower_id', '=', v)).as('following'))
}

type CommentRow = { id: number; body: string; created_at: string; updated_at: string; author_id: number; article_id: number; username: string; bio: string | null; image: string | null; following: unknown }
const toComment = (r: CommentRow): Comment & { authorId: number; articleId: number } => ({
  id: r.id, createdAt: r.created_at, updatedAt: r.updated_at, body: r.body,
  author: { username: r.username, bio: r.bio, image: r.image, following: truthy(r.following) },
  authorId: r.author_id, articleId: r.article_id,
})

/** An article's comments, oldest first. */
export async function listComments(db: Db, articleId: number, viewerId: number | null): Promise<Array<Comment & { authorId: number }>> {
  const rows = await commentSelect(db, viewerId).where('c.article_id', '=', articleId).orderBy('c.id').execute()
  return rows.map((r) => toComment(r as CommentRow))
}

export async function getComment(db: Db, id: number, viewerId: number | null): Promise<(Comment & { authorId: number; articleId: number }) | undefined> {
  if (!Number.isSafeInteger(id)) return undefined
  const row = await commentSelect(db, viewerId).where('c.id', '=', id).executeTakeFirst()
  return row === undefined ? undefined : toComment(row as CommentRow)
}

export async function addComment(db: Db, articleId: number, authorId: number, body: string, at = now()): Promise<number> {
  const insert = db.insertInto('comments').values({ article_id: articleId, author_id: authorId, body, created_at: at, updated_at: at } as never)
  // PostgreSQL tells the new id through RETURNING; SQLite and MariaDB as the insert id.
  if (dialectOf(db) === 'postgres') return (await insert.returning('id').executeTakeFirstOrThrow()).id
  return Number((await insert.executeTakeFirstOrThrow()).insertId)
}

export async function deleteComment(db: Db, id: number): Promise<void> {
  await db.deleteFrom('comments').where('id', '=', id).execute()
}
