// What the list pages show, apart from the request: shared by pages.ts and the Fastify twin
// of the home page in bench/ (so both do the same work per request).
import { listArticles, popularTags, type Article, type ArticleQuery, type Db } from './data.js'

/** Articles on one page of a list. */
export const PAGE_SIZE = 20

const dateFormat = new Intl.DateTimeFormat('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' })
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
/** "November 25, 2026": the dates the pages show (in UTC; Intl.DateTimeFormat's format, without its cost per call). */
export function showDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T/.exec(iso)
  if (m === null) return dateFormat.format(new Date(iso))
  return `${MONTHS[Number(m[2]) - 1]} ${Number(m[3])}, ${m[1]}`
}

/** The articles of a list with what the templates show of them. */
export function forList(articles: Article[]): Array<Article & { date: string }> {
  return articles.map((a) => ({ ...a, date: showDate(a.createdAt) }))
}

/** The page number of `?page=`, 1 when absent; `null` when it is not a page number. */
export function pageOf(c: { req: { query(name: string): string | undefined } }): number | null {
  const raw = c.req.query('page')
  if (raw === undefined || raw === '') return 1
  return /^[1-9][0-9]{0,5}$/.test(raw) ? Number(raw) : null
}

/** Links to the other pages of a list, when there is more than one. */
export function pagination(count: number, page: number, href: (page: number) => string): Array<{ n: number; href: string; current: boolean }> {
  const pages = Math.ceil(count / PAGE_SIZE)
  if (pages <= 1) return []
  return Array.from({ length: pages }, (_, i) => ({ n: i + 1, href: href(i + 1), current: i + 1 === page }))
}

/** The path and query of this request: where a button's redirect comes back to. */
export const here = (c: { req: { url: string } }): string => {
  const u = new URL(c.req.url)
  return u.pathname + u.search
}

export const withQuery = (path: string, q: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== 1 && v !== '') s.set(k, String(v))
  const qs = s.toString()
  return qs === '' ? path : `${path}?${qs}`
}

/** The home page's data: one page of the global feed, your feed or a tag, and the popular tags. */
export async function homeData(db: Db, options: { page: number; tag?: string | undefined; feedOf?: number | undefined; viewerId: number | null }) {
  const query: ArticleQuery = { limit: PAGE_SIZE, offset: (options.page - 1) * PAGE_SIZE }
  if (options.feedOf !== undefined) query.feedOf = options.feedOf
  else if (options.tag !== undefined && options.tag !== '') query.tag = options.tag
  const [{ articles, articlesCount }, tags] = await Promise.all([listArticles(db, query, options.viewerId), popularTags(db, 20)])
  const feed = query.feedOf !== undefined
  return {
    tab: feed ? 'feed' : query.tag !== undefined ? 'tag' : 'global', tag: query.tag, tags, articles: forList(articles), articlesCount,
    pages: pagination(articlesCount, options.page, (n) => withQuery('/', { feed: feed ? 'following' : undefined, tag: query.tag, page: n })),
  }
}
