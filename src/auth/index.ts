/**
 * `carafe/auth`: authentication and request protection: CSRF (`csrf()`) and rate limits
 * (`rateLimit()`).
 *
 * @example
 * import { csrf, rateLimit } from 'carafe/auth'
 * app.use(session())
 * app.use(csrf())
 * app.post('/login', rateLimit({ window: '15m', max: 10 }), async (c) => { … })
 */
export { csrf, maskToken, tokenMatches, CSRF_FIELD, CSRF_HEADER, CSRF_SESSION_KEY } from './csrf.js'
export type { CsrfOptions } from './csrf.js'
export { rateLimit, ipKey } from './rate-limit.js'
export type { RateLimiter, RateLimitOptions, RateLimitStore, RedisRateLimitStore } from './rate-limit.js'
export type { RedisClientLike } from './rate-limit-redis.js'
