// Conduit's pages, one per route of RealWorld's frontend-routing.md, rendered on the server:
// they work with JavaScript off. Signing in is a session (not a token in localStorage), every
// form carries a CSRF token, and actions answer with a redirect and a flash message. With
// JavaScript on, static/conduit.js favorites and follows without a reload and shows new
// comments as they are written (the /article/<slug>/live event stream).
import type { Carafe, Context } from 'carafe'
import { isHttpError } from 'carafe'
import { hashPassword, requireLogin, verifyPassword, type RateLimiter } from 'carafe/auth'
import type { Database } from 'carafe/db'
import {
  addComment, createArticle, createUser, deleteArticle, deleteComment, getArticle, getComment, listArticles,
  listComments, profileOf, setFavorite, setFollow, taken, updateArticle, updateUser, userByEmail,
  userByUsername, type Article, type ArticleQuery, type Comment, type DB, type Db,
} from './lib/data.js'
import { commentTopic, publishComment, type CommentEvent } from './lib/events.js'
import { saveImage } from './lib/images.js'
import { forList, here, homeData, pageOf, pagination, PAGE_SIZE, showDate, withQuery } from './lib/views.js'
import { renderMarkdown } from './lib/markdown.js'
import { checkArticle, checkComment, checkProfile, checkRegistration, splitTags, type FieldErrors } from './lib/rules.js'

export interface PageDeps { db: Database<DB>; loginLimit: RateLimiter; uploads: string }

const viewer = (c: Context<any>): number | null => c.user?.id ?? null

/** Whether the client asked for JSON (static/conduit.js does, for the no-reload buttons). */
const wantsJson = (c: Context<any>): boolean => (c.req.header('accept') ?? '').includes('application/json')

export function pages(app: Carafe, deps: PageDeps): void {
  const { loginLimit, uploads } = deps
  const db = (c: Context<any>): Db => c.db as Db

  /** A page's article by slug, or a 404 page. */
  const articleOr404 = async (c: Context<any>, slug: string): Promise<Article> => {
    const a = await getArticle(db(c), slug, viewer(c))
    if (a === undefined) return c.abort(404, 'There is no article here: it may have been deleted, or its title (and so its address) changed.')
    return a
  }
  const mine = (c: Context<any>, a: Article): boolean => c.user !== null && c.user.username === a.author.username

  // ---- home: global feed, your feed, a tag -------------------------------------------------
  app.get('/', async function home(c) {
    const page = pageOf(c)
    if (page === null) return c.abort(400, 'The page number must be a whole number from 1.')
    const tag = c.req.query('tag')
    const feed = c.req.query('feed') === 'following'
    if (feed && c.user === null) return c.redirect(`/login?next=${encodeURIComponent('/?feed=following')}`)
    const data = await homeData(db(c), { page, tag, feedOf: feed ? c.user!.id : undefined, viewerId: viewer(c) })
    return c.render('home.html', { ...data, here: here(c) })
  })

  // ---- sign in, sign up, sign out ----------------------------------------------------------
  app.get('/login', function login(c) {
    if (c.user !== null) return c.redirect('/')
    return c.render('login.html', { next: c.safeNext(''), values: {}, errors: [] })
  })

  app.post('/login', loginLimit, async function doLogin(c) {
    const f = await c.req.form()
    const email = (f.text('email') ?? '').trim()
    const password = f.text('password') ?? ''
    const next = c.safeNext('', f.text('next'))
    const errors: string[] = []
    if (email === '') errors.push("Email can't be blank")
    if (password === '') errors.push("Password can't be blank")
    const user = errors.length === 0 ? await userByEmail(db(c), email) : undefined
    // The hash is checked even for an unknown email, so the answer takes as long either way.
    const ok = errors.length === 0 && await verifyPassword(user?.passwordHash, password)
    if (user === undefined || !ok) {
      if (errors.length === 0) errors.push('Wrong email or password.')
      return c.render('login.html', { next, values: { email }, errors }, errors.length === 1 && errors[0]!.startsWith('Wrong') ? 401 : 422)
    }
    await c.login(user)
    c.flash(`Welcome back, ${user.username}!`)
    return c.redirect(c.safeNext('/', next), 303)
  })

  app.get('/register', function register(c) {
    if (c.user !== null) return c.redirect('/')
    return c.render('register.html', { values: {}, errors: [] })
  })

  app.post('/register', loginLimit, async function doRegister(c) {
    const f = await c.req.form()
    const values = { username: (f.text('username') ?? '').trim(), email: (f.text('email') ?? '').trim(), password: f.text('password') ?? '' }
    const errors = checkRegistration(values)
    if (errors.username === undefined && errors.email === undefined) {
      const t = await taken(db(c), values)
      if (t.username === true) (errors.username ??= []).push('has already been taken')
      if (t.email === true) (errors.email ??= []).push('has already been taken')
    }
    if (Object.keys(errors).length > 0) return c.render('register.html', { values: { ...values, password: '' }, errors: messages(errors) }, 422)
    const user = await createUser(db(c), { username: values.username, email: values.email, passwordHash: await hashPassword(values.password) })
    await c.login(user)
    c.flash(`Welcome to Conduit, ${user.username}!`)
    return c.redirect('/', 303)
  })

  app.post('/logout', async function logout(c) {
    await c.logout()
    c.flash('You are signed out.')
    return c.redirect('/', 303)
  })

  // ---- settings ----------------------------------------------------------------------------
  app.get('/settings', requireLogin(), function settings(c) {
    const u = c.user!
    return c.render('settings.html', { values: { username: u.username, email: u.email, bio: u.bio ?? '', image: u.image ?? '' }, errors: [] })
  })

  app.post('/settings', requireLogin(), async function saveSettings(c) {
    const u = c.user!
    const f = await c.req.form()
    const values = {
      username: (f.text('username') ?? '').trim(), email: (f.text('email') ?? '').trim(),
      bio: f.text('bio') ?? '', image: (f.text('image') ?? '').trim(), password: f.text('password') ?? '',
    }
    const errors = checkProfile(values)
    const file = f.file('avatar')
    if (file !== undefined && file.size > 0 && errors.image === undefined) {
      const saved = await saveImage(file, uploads)
      if ('error' in saved) errors.avatar = [saved.error]
      else values.image = saved.url
    }
    if (errors.username === undefined && errors.email === undefined) {
      const t = await taken(db(c), values, u.id)
      if (t.username === true) (errors.username ??= []).push('has already been taken')
      if (t.email === true) (errors.email ??= []).push('has already been taken')
    }
    if (Object.keys(errors).length > 0) return c.render('settings.html', { values: { ...values, password: '' }, errors: messages(errors) }, 422)
    await updateUser(db(c), u.id, {
      username: values.username, email: values.email, bio: values.bio.trim() === '' ? null : values.bio, image: values.image === '' ? null : values.image,
      ...(values.password !== '' ? { passwordHash: await hashPassword(values.password) } : {}),
    })
    // A new password ends every other session of this user (this one goes on, with a new id).
    if (values.password !== '') await c.logoutOthers()
    c.flash('Your settings are saved.')
    return c.redirect(`/profile/${encodeURIComponent(values.username)}`, 303)
  })

  // ---- the editor --------------------------------------------------------------------------
  app.get('/editor', requireLogin(), function newArticle(c) {
    return c.render('editor.html', { values: {}, errors: [], action: '/editor' })
  })

  app.get('/editor/<slug>', requireLogin(), async function editArticle(c) {
    const a = await articleOr404(c, c.params.slug)
    if (!mine(c, a)) return c.abort(403, 'Only its author can edit this article.')
    return c.render('editor.html', { values: { title: a.title, description: a.description, body: a.body, tags: a.tagList.join(' ') }, errors: [], action: `/editor/${encodeURIComponent(a.slug)}`, article: a })
  })

  /** The editor's form, checked; a picture it carries is saved and added to the body. */
  const readArticleForm = async (c: Context<any>): Promise<{ values: { title: string; description: string; body: string; tags: string }; errors: FieldErrors }> => {
    const f = await c.req.form()
    const values = { title: (f.text('title') ?? '').trim(), description: (f.text('description') ?? '').trim(), body: f.text('body') ?? '', tags: f.text('tags') ?? '' }
    const errors = checkArticle(values, splitTags(values.tags))
    const file = f.file('image')
    if (file !== undefined && file.size > 0) {
      const saved = await saveImage(file, uploads)
      if ('error' in saved) errors.image = [saved.error]
      else values.body = `${values.body.replace(/\s+$/, '')}\n\n![${(f.text('alt') ?? '').replace(/[[\]\n\r]/g, '').trim() || 'picture'}](${saved.url})\n`
    }
    return { values, errors }
  }

  app.post('/editor', requireLogin(), async function publish(c) {
    const { values, errors } = await readArticleForm(c)
    if (Object.keys(errors).length > 0) return c.render('editor.html', { values, errors: messages(errors), action: '/editor' }, 422)
    const slug = await createArticle(db(c), c.user!.id, { title: values.title, description: values.description, body: values.body, tagList: splitTags(values.tags) })
    c.flash('Your article is published.')
    return c.redirect(`/article/${encodeURIComponent(slug)}`, 303)
  })

  app.post('/editor/<slug>', requireLogin(), async function saveArticle(c) {
    const a = await articleOr404(c, c.params.slug)
    if (!mine(c, a)) return c.abort(403, 'Only its author can edit this article.')
    const { values, errors } = await readArticleForm(c)
    const action = `/editor/${encodeURIComponent(a.slug)}`
    if (Object.keys(errors).length > 0) return c.render('editor.html', { values, errors: messages(errors), action, article: a }, 422)
    const slug = await updateArticle(db(c), a.id, { title: values.title, description: values.description, body: values.body, tagList: splitTags(values.tags) })
    c.flash('Your changes are saved.')
    return c.redirect(`/article/${encodeURIComponent(slug)}`, 303)
  })

  app.post('/article/<slug>/delete', requireLogin(), async function removeArticle(c) {
    const a = await articleOr404(c, c.params.slug)
    if (!mine(c, a)) return c.abort(403, 'Only its author can delete this article.')
    await deleteArticle(db(c), a.id)
    c.flash(`“${a.title}” is deleted.`)
    return c.redirect(`/profile/${encodeURIComponent(a.author.username)}`, 303)
  })

  // ---- an article and its comments ---------------------------------------------------------
  app.get('/article/<slug>', async function article(c) {
    const a = await articleOr404(c, c.params.slug)
    const comments = await listComments(db(c), a.id, viewer(c))
    return c.render('article.html', {
      article: { ...a, date: showDate(a.createdAt) }, html: renderMarkdown(a.body ?? ''), mine: mine(c, a),
      // Newest first, as the live ones arrive on top.
      comments: comments.map((m) => ({ ...m, date: showDate(m.createdAt), mine: c.user !== null && c.user.id === m.authorId })).reverse(),
      lastCommentId: comments.length > 0 ? comments[comments.length - 1]!.id : 0, values: {}, errors: [],
    })
  })

  app.post('/article/<slug>/comments', requireLogin(), async function comment(c) {
    const a = await articleOr404(c, c.params.slug)
    const f = await c.req.form()
    const body = (f.text('body') ?? '').trim()
    const errors = checkComment(body)
    if (Object.keys(errors).length > 0) {
      c.flash(`Your comment ${errors.body!.join(', ')}.`, 'error')
      return c.redirect(`/article/${encodeURIComponent(a.slug)}#comment`, 303)
    }
    const id = await addComment(db(c), a.id, c.user!.id, body)
    const made = (await getComment(db(c), id, null))!
    await publishComment(app, a.id, { event: 'comment', comment: publicComment(made) })
    return c.redirect(`/article/${encodeURIComponent(a.slug)}#comment-${id}`, 303)
  })

  app.post('/article/<slug>/comments/<int:id>/delete', requireLogin(), async function uncomment(c) {
    const a = await articleOr404(c, c.params.slug)
    const m = await getComment(db(c), c.params.id, null)
    if (m === undefined || m.articleId !== a.id) return c.abort(404, 'There is no such comment.')
    if (m.authorId !== c.user!.id) return c.abort(403, 'Only its author can delete this comment.')
    await deleteComment(db(c), m.id)
    await publishComment(app, a.id, { event: 'uncomment', id: m.id })
    c.flash('Your comment is deleted.')
    return c.redirect(`/article/${encodeURIComponent(a.slug)}#comments`, 303)
  })

  // New and deleted comments as they happen, for the article page's script. A reconnecting
  // browser sends the id of the last comment it saw (Last-Event-ID); it gets the ones it missed.
  app.get('/article/<slug>/live', async function live(c) {
    const a = await articleOr404(c, c.params.slug)
    const since = Number(c.req.query('since') ?? 0)
    return c.sse(async (stream) => {
      const last = Number(stream.lastEventId ?? since)
      stream.subscribe(commentTopic(a.id), (m) => {
        const e = m as CommentEvent
        return e.event === 'comment' ? { event: 'comment', id: e.comment.id, data: e.comment } : { event: 'uncomment', data: { id: e.id } }
      })
      if (Number.isSafeInteger(last) && last > 0) {
        for (const m of await listComments(db(c), a.id, null)) if (m.id > last) await stream.send({ event: 'comment', id: m.id, data: publicComment(m) })
      }
    })
  })

  app.post('/article/<slug>/favorite', requireLogin(), async function favorite(c) {
    const a = await articleOr404(c, c.params.slug)
    const f = await c.req.form()
    const on = f.text('on') !== '0'
    await setFavorite(db(c), c.user!.id, a.id, on)
    const now = (await getArticle(db(c), a.slug, viewer(c)))!
    if (wantsJson(c)) return { favorited: now.favorited, favoritesCount: now.favoritesCount }
    return c.redirect(c.safeNext(`/article/${encodeURIComponent(a.slug)}`, f.text('next')), 303)
  })

  // ---- profiles ----------------------------------------------------------------------------
  const profilePage = (favorites: boolean) => async function profile(c: Context<any>) {
    const page = pageOf(c)
    if (page === null) return c.abort(400, 'The page number must be a whole number from 1.')
    const user = await userByUsername(db(c), c.params.username as string)
    if (user === undefined) return c.abort(404, 'There is no user by that name.')
    const query: ArticleQuery = { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, ...(favorites ? { favorited: user.username } : { author: user.username }) }
    const [profile, { articles, articlesCount }] = await Promise.all([profileOf(db(c), user, viewer(c)), listArticles(db(c), query, viewer(c))])
    const base = `/profile/${encodeURIComponent(user.username)}${favorites ? '/favorites' : ''}`
    return c.render('profile.html', {
      profile, favorites, here: here(c), me: c.user !== null && c.user.id === user.id, articles: forList(articles), articlesCount,
      pages: pagination(articlesCount, page, (n) => withQuery(base, { page: n })),
    })
  }
  app.get('/profile/<username>', profilePage(false))
  app.get('/profile/<username>/favorites', profilePage(true))

  app.post('/profile/<username>/follow', requireLogin(), async function follow(c) {
    const user = await userByUsername(db(c), c.params.username)
    if (user === undefined) return c.abort(404, 'There is no user by that name.')
    const f = await c.req.form()
    const on = f.text('on') !== '0'
    if (user.id === c.user!.id) return c.abort(422, 'You cannot follow yourself.')
    await setFollow(db(c), c.user!.id, user.id, on)
    if (wantsJson(c)) return { following: on }
    if (on) c.flash(`You follow ${user.username}: their articles are in Your Feed.`)
    return c.redirect(c.safeNext(`/profile/${encodeURIComponent(user.username)}`, f.text('next')), 303)
  })
}

/**
 * The site's error pages (`app.onError`, composed in app.ts with the API's): refusals (404,
 * 403, 400, 413, 429…) as a page of the site with the reason; the rest (and every error of
 * a client that asks for JSON) as Carafe answers them.
 */
export function pageError(error: unknown, c: Context<any>): unknown {
  if (!isHttpError(error) || error.status >= 500 || wantsJson(c) || c.req.method === 'HEAD') return error
  if (error.status === 401 || (error.status >= 300 && error.status < 400)) return error
  const title = error.status === 404 ? 'Not found' : error.status === 403 ? 'Not yours' : error.status === 429 ? 'Too many tries' : 'That did not work'
  const res = c.render('error.html', { status: error.status, title, message: error.message }, error.status)
  for (const [k, v] of Object.entries(error.headers)) c.header(k, v)
  return res
}

/** A comment as the API and the event stream show it (no ids of the database's own). */
function publicComment(m: Comment & { authorId?: number; articleId?: number }): Comment {
  return { id: m.id, createdAt: m.createdAt, updatedAt: m.updatedAt, body: m.body, author: m.author }
}

/** Field errors as the sentences a form shows: "Username has already been taken". */
function messages(errors: FieldErrors): string[] {
  const label: Record<string, string> = { username: 'Username', email: 'Email', password: 'Password', bio: 'Bio', image: 'Picture', avatar: 'Picture', title: 'Title', description: 'Description', body: 'Body', tags: 'Tags', tagList: 'Tags' }
  return Object.entries(errors).flatMap(([k, list]) => list.map((m) => `${label[k] ?? k} ${m}`))
}
