/**
 * `carafe/auth`: password hashing, logins (`c.user`, `c.login()`, `c.logout()`), route
 * guards, API tokens, HTTP Basic, remember-me and password-reset tokens, CSRF protection
 * (`csrf()`) and rate limits (`rateLimit()`). Light to import: argon2, jose, nodemailer and
 * the rate limiter load on first use.
 *
 * @example
 * import { auth, csrf, rateLimit, hashPassword, verifyPassword, requireLogin, requireRole } from 'carafe/auth'
 * app.use(session())
 * app.use(csrf())
 * app.use(auth({ loadUser: (id) => users.get(id) }))
 * app.post('/login', rateLimit({ window: '15m', max: 10 }), async (c) => { … })
 * app.get('/admin', requireRole('admin'), (c) => c.render('admin.html'))
 */
export { hashPassword, verifyPassword, needsRehash, configurePasswords, passwordLoad } from './password.js'
export type { PasswordOptions, PasswordLoad } from './password.js'
export { auth } from './auth.js'
export type { AuthPlugin } from './auth.js'
export type { AuthOptions, TokenOptions, RememberOptions, PermissionCheck, UserId } from './options.js'
export type { AppKeys } from './runtime.js'
export { requireLogin, requireRole, requirePermission } from './guards.js'
export type { AuthMiddleware } from './guards.js'
export { issueToken } from './tokens.js'
export type { IssueTokenOptions } from './tokens.js'
export { basicAuth } from './basic.js'
export type { BasicAuthOptions, BasicCheck } from './basic.js'
export { createResetToken, consumeResetToken } from './reset.js'
export type { ResetTokenOptions } from './reset.js'
export { consoleMailer, smtpMailer, sendMail } from './mailer.js'
export type { Mailer, MailMessage, ConsoleMailerOptions, SmtpMailerOptions, SmtpTransportOptions } from './mailer.js'
export { csrf, maskToken, tokenMatches, CSRF_FIELD, CSRF_HEADER, CSRF_SESSION_KEY } from './csrf.js'
export type { CsrfOptions } from './csrf.js'
export { rateLimit, ipKey } from './rate-limit.js'
export type { RateLimiter, RateLimitOptions, RateLimitStore, RedisRateLimitStore } from './rate-limit.js'
export type { RedisClientLike } from './rate-limit-redis.js'
export type { AuthMethod, CurrentUser, LoginOptions } from '../core/battery.js'
