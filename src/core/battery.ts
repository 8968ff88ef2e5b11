/**
 * The per-request state the batteries (`carafe/session`, `carafe/auth`, `csrf()`) attach to
 * a context, as interfaces only: the context exposes them as `c.session`, `c.user`,
 * `c.login()`, `c.csrfToken()` … without importing the batteries, so `import 'carafe'`
 * stays light. Each battery's middleware provides its part with `c.provide()`.
 */

/**
 * The keys of `c.session` and their value types. Augment it to type your keys:
 *
 * @example
 * declare module 'carafe' { interface SessionData { cart: number[]; theme: 'dark' | 'light' } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}

/**
 * The type of `c.user` (Flask-Login's `current_user`): what `auth({ loadUser })` returns.
 * Augment it with your user type:
 *
 * @example
 * declare module 'carafe' { interface CurrentUser { id: number; email: string; roles: string[] } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CurrentUser {}

/** A value a session can hold: anything JSON can carry. */
export type SessionValue = string | number | boolean | null | SessionValue[] | { [key: string]: SessionValue | undefined }

/** Keys of {@link SessionData}, when it has been augmented. */
type DeclaredKey = keyof SessionData & string

/**
 * `c.session`: a server-side session (`app.use(session())`), read and changed synchronously;
 * changes are saved once, after the handler, and only when something changed.
 */
export interface Session {
  /** The session id (what the cookie carries), or `null` while the session is new and unsaved. */
  readonly id: string | null
  /** True until the session has been saved once (the request came without a valid session). */
  readonly isNew: boolean
  /** True when something was changed during this request (it will be saved). */
  readonly changed: boolean
  get<K extends DeclaredKey>(key: K): SessionData[K] | undefined
  get(key: string): unknown
  set<K extends DeclaredKey>(key: K, value: SessionData[K]): void
  /** A key {@link SessionData} does not declare (a declared one must take its declared type). */
  set<K extends string>(key: K extends DeclaredKey ? never : K, value: SessionValue): void
  has(key: string): boolean
  delete(key: string): void
  /** Remove every key (the session itself lives on; see {@link destroy}). */
  clear(): void
  /** The keys set, yours only (not Carafe's own `$`-keys). */
  keys(): string[]
  /** Give the session a new id and keep its data (after login, against fixation); the old id stops working. */
  regenerate(): Promise<void>
  /** End the session on the server and clear its cookie; the request goes on with a new, empty one. */
  destroy(): Promise<void>
}

/** A flashed message (`c.flash(message, category)`). */
export interface FlashMessage {
  message: string
  category: string
}

/** What `auth()` provides on each request. @internal */
export interface AuthHandle {
  readonly user: CurrentUser | null
  readonly via: AuthMethod | null
  login(user: CurrentUser, options?: LoginOptions): Promise<void>
  logout(): Promise<void>
  logoutOthers(): Promise<void>
}

/**
 * How the request's user was authenticated: the session cookie, a remember-me cookie, an
 * API token (`Authorization: Bearer …`) or HTTP Basic.
 */
export type AuthMethod = 'session' | 'remember' | 'token' | 'basic'

/** Options for `c.login(user, options)`. */
export interface LoginOptions {
  /** Also set a long-lived, revocable remember-me cookie (Flask-Login's `remember=True`). @default false */
  remember?: boolean
}

/** What `csrf()` provides on each request. @internal */
export interface CsrfHandle {
  /** A fresh masked token for this session (a new mask each call, against BREACH). */
  token(): string
}

/** The slots a context has for the batteries. @internal */
export interface Batteries {
  session?: Session
  auth?: AuthHandle
  csrf?: CsrfHandle
}
