// What Conduit accepts, for the pages and the API alike: each check returns the problems by
// field ("can't be blank"), empty when the input is fine.
export type FieldErrors = Record<string, string[]>

export const LIMITS = { username: 40, email: 255, password: [8, 200], bio: 1000, image: 500, title: 200, description: 500, body: 65_535, tags: 10, tag: 40, comment: 5000 } as const

const USERNAME = /^[\p{L}\p{N}_.-]+$/u
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/

function add(errors: FieldErrors, field: string, message: string): void {
  (errors[field] ??= []).push(message)
}

function text(errors: FieldErrors, field: string, value: string | undefined, max: number, required = true): void {
  if (value === undefined || value.trim() === '') {
    if (required) add(errors, field, "can't be blank")
  } else if (value.length > max) add(errors, field, `is too long (at most ${max} characters)`)
}

export function checkUsername(errors: FieldErrors, username: string | undefined): void {
  text(errors, 'username', username, LIMITS.username)
  if (username !== undefined && username.trim() !== '' && username.length <= LIMITS.username && !USERNAME.test(username)) add(errors, 'username', 'may hold only letters, digits and _ . -')
}

export function checkEmail(errors: FieldErrors, email: string | undefined): void {
  text(errors, 'email', email, LIMITS.email)
  if (email !== undefined && email.trim() !== '' && email.length <= LIMITS.email && !EMAIL.test(email.trim())) add(errors, 'email', 'is invalid')
}

export function checkPassword(errors: FieldErrors, password: string | undefined, required = true): void {
  if (password === undefined || password === '') {
    if (required) add(errors, 'password', "can't be blank")
  } else if (password.length < LIMITS.password[0]) add(errors, 'password', `is too short (at least ${LIMITS.password[0]} characters)`)
  else if (password.length > LIMITS.password[1]) add(errors, 'password', `is too long (at most ${LIMITS.password[1]} characters)`)
}

/**
 * A profile picture's URL: an http(s) URL or a picture uploaded here (`/uploads/…`); never
 * `javascript:`, `data:` or another scheme, since the pages put it in `<img src>`.
 */
export function checkImageUrl(errors: FieldErrors, image: string | null | undefined, field = 'image'): void {
  if (image === undefined || image === null || image === '') return
  if (image.length > LIMITS.image) return add(errors, field, `is too long (at most ${LIMITS.image} characters)`)
  if (/^\/uploads\/[0-9a-f]{32}\.(png|jpg|webp|gif)$/.test(image)) return
  let url: URL
  try {
    url = new URL(image)
  } catch {
    return add(errors, field, 'must be an http:// or https:// URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') add(errors, field, 'must be an http:// or https:// URL')
}

export function checkRegistration(v: { username?: string; email?: string; password?: string }): FieldErrors {
  const errors: FieldErrors = {}
  checkUsername(errors, v.username)
  checkEmail(errors, v.email)
  checkPassword(errors, v.password)
  return errors
}

/** The settings form: every field there; an empty password keeps the old one. */
export function checkProfile(v: { username: string; email: string; bio: string; image: string; password: string }): FieldErrors {
  const errors: FieldErrors = {}
  checkUsername(errors, v.username)
  checkEmail(errors, v.email)
  text(errors, 'bio', v.bio, LIMITS.bio, false)
  checkImageUrl(errors, v.image)
  checkPassword(errors, v.password, false)
  return errors
}

/** Tags typed in one field, separated by spaces or commas. */
export function splitTags(s: string): string[] {
  return s.split(/[\s,]+/).filter((t) => t !== '')
}

export function checkTags(errors: FieldErrors, tags: readonly unknown[]): void {
  if (tags.length > LIMITS.tags) add(errors, 'tagList', `has too many tags (at most ${LIMITS.tags})`)
  for (const t of tags) {
    if (typeof t !== 'string') return add(errors, 'tagList', 'must be a list of strings')
    if (t.trim().length > LIMITS.tag) return add(errors, 'tagList', `has a tag that is too long (at most ${LIMITS.tag} characters)`)
  }
}

/** A new article (`partial` for an update: only the fields given are checked). */
export function checkArticle(v: { title?: string | undefined; description?: string | undefined; body?: string | undefined }, tags: readonly unknown[] = [], partial = false): FieldErrors {
  const errors: FieldErrors = {}
  if (!partial || v.title !== undefined) text(errors, 'title', v.title, LIMITS.title)
  if (!partial || v.description !== undefined) text(errors, 'description', v.description, LIMITS.description)
  if (!partial || v.body !== undefined) text(errors, 'body', v.body, LIMITS.body)
  // A MariaDB `text` column holds 65,535 bytes (SQLite and PostgreSQL more): the same limit on every database, as the API's.
  if (v.body !== undefined && v.body.length <= LIMITS.body && Buffer.byteLength(v.body) > LIMITS.body) (errors.body ??= []).push(`is too long (at most ${LIMITS.body} bytes of UTF-8)`)
  checkTags(errors, tags)
  return errors
}

export function checkComment(body: string | undefined): FieldErrors {
  const errors: FieldErrors = {}
  text(errors, 'body', body, LIMITS.comment)
  return errors
}
