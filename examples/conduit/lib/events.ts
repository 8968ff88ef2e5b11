// Live updates: a new comment is published on its article's topic; the article page's event
// stream (pages.ts, /article/<slug>/live) forwards it to every reader, whichever worker or
// machine they are on (processPubSub across workers, redisPubSub across machines).
import type { Carafe } from 'carafe'
import type { Comment } from './data.js'

export const commentTopic = (articleId: number): string => `conduit:comments:${articleId}`

/** What readers of the article receive when a comment is added (`event: comment`) or deleted (`event: uncomment`). */
export type CommentEvent = { event: 'comment'; comment: Comment } | { event: 'uncomment'; id: number }

/** Tell the readers of an article that one of its comments was added or deleted. */
export function publishComment(app: Carafe, articleId: number, e: CommentEvent): void | Promise<void> {
  return app.publish(commentTopic(articleId), e)
}
