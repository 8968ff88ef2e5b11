import type { Context } from './context.js'
import type { AppLogger } from './logger.js'
import type { PubSub } from '../realtime/pubsub.js'

/** What a context needs from its app (kept small so the context never imports the app). */
export interface AppServices {
  readonly debug: boolean
  /** Folder that relative paths (templates, static roots) resolve against. */
  readonly root: string
  /** The app's secrets, newest first. */
  readonly secrets: readonly string[]
  /** The newest key for `purpose`, derived from the secrets (`ERR_NO_SECRET` without one). */
  key(purpose: string): Buffer
  /** Every key for `purpose`, newest first. */
  keys(purpose: string): readonly Buffer[]
  render(name: string, data: Record<string, unknown>, c: Context<any>): Promise<string>
  url(name: string, params: Record<string, unknown>, query?: Record<string, string | number>): string
  /** The app's logger (`c.log` writes through it); without one, a default logger on stderr. */
  readonly log?: AppLogger
  /** The transport of `app.publish()`, for `stream.subscribe()` of `c.sse()`. */
  readonly pubsub?: PubSub
  /** Told of `c.logout()` / `c.logoutOthers()`, to close the WebSockets of that session (or the user's other sessions). */
  loggedOut?(sessionId: string | null, user: unknown, others: boolean): void
}
