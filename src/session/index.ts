/**
 * `carafe/session`: server-side sessions (`c.session`) with pluggable stores.
 *
 * @example
 * import { session, sqliteStore } from 'carafe/session'
 * app.use(session({ store: sqliteStore({ path: 'data/sessions.db' }), maxAge: '14d', idleTimeout: '2d' }))
 */
export { session, hashId } from './session.js'
export type { SessionOptions, SessionCookieOptions, SessionPlugin } from './session.js'
export { memoryStore } from './memory-store.js'
export type { MemoryStoreOptions } from './memory-store.js'
export { sqliteStore } from './sqlite-store.js'
export type { SqliteStore, SqliteStoreOptions } from './sqlite-store.js'
export { redisStore } from './redis-store.js'
export type { RedisClientLike, RedisStore, RedisStoreOptions } from './redis-store.js'
export { cookieStore } from './cookie-store.js'
export type { CookieStore, CookieStoreOptions } from './cookie-store.js'
export { seconds, SessionStoreError } from './store.js'
export type { SessionPatch, SessionRecord, SessionStore, StoreEnv, StoredSession } from './store.js'
export type { Session, SessionData, SessionValue, FlashMessage } from '../core/battery.js'
