import { CarafeError } from '../core/errors.js'
import { lazyRequire } from '../util/lazy.js'

/** node:crypto on first use (loading it costs start-up time every app would pay). */
const crypto = (): typeof import('node:crypto') => lazyRequire<typeof import('node:crypto')>('node:crypto')

/** The shortest secret accepted, in bytes (UTF-8): as much as the HMAC-SHA256 key it feeds. */
export const MIN_SECRET_BYTES = 32

const HOW_TO = 'make one with `npx carafe secret` and set CARAFE_SECRET=<it> (or new Carafe({ secrets: [...] }))'

/**
 * The app's secrets, newest first, from the `secrets` option, else `CARAFE_SECRET`, else
 * `CARAFE_DEV_SECRET` (which only `carafe run` sets, from `<app folder>/.carafe/secret`).
 * `[]` when none is configured: signing then fails with `ERR_NO_SECRET` when first used.
 *
 * Threat: an empty or short secret lets anyone forge what it signs (an HMAC with an empty
 * key is public). Rule: every secret, old ones too (they all verify), is at least
 * {@link MIN_SECRET_BYTES} bytes, else `ERR_WEAK_SECRET` at `new Carafe()`.
 */
export function resolveSecrets(option: string | readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const [value, from] = option !== undefined ? [option, 'the secrets option']
    : env.CARAFE_SECRET !== undefined ? [env.CARAFE_SECRET, 'CARAFE_SECRET']
      : env.CARAFE_DEV_SECRET !== undefined ? [env.CARAFE_DEV_SECRET, 'CARAFE_DEV_SECRET (from .carafe/secret; delete the file to get a new one)']
        : [[], '']
  const secrets = typeof value === 'string' ? [value] : [...value]
  secrets.forEach((secret, i) => {
    if (typeof secret !== 'string') throw new CarafeError('ERR_WEAK_SECRET', `secret ${i + 1} of ${from} is not a string: ${HOW_TO}`)
    const bytes = Buffer.byteLength(secret)
    if (bytes < MIN_SECRET_BYTES) {
      const which = secrets.length > 1 ? `secret ${i + 1} of ${from}` : `the secret from ${from}`
      throw new CarafeError('ERR_WEAK_SECRET', `${which} is ${bytes === 0 ? 'empty' : `only ${bytes} bytes`}; a secret must be at least ${MIN_SECRET_BYTES} random bytes: ${HOW_TO}`)
    }
  })
  return Object.freeze(secrets)
}

/**
 * One key per purpose from one secret: HKDF-SHA256 (RFC 5869) with the purpose in `info`,
 * so a key leaked or misused in one place (say, a token format) does not sign cookies or
 * sessions, and no two features ever share a MAC key.
 *
 * @example
 * deriveKey(secret, 'cookie') // 32 bytes
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(crypto().hkdfSync('sha256', secret, '', `carafe/${purpose}`, 32))
}

/**
 * The keys for one purpose, one per secret and in the same order (newest first: sign with
 * the first, verify with all), derived once per purpose and kept.
 */
export class Keyring {
  readonly #secrets: readonly string[]
  readonly #keys = new Map<string, readonly Buffer[]>()

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets
  }

  /** Every key for `purpose`, newest first; `[]` when the app has no secret. */
  keys(purpose: string): readonly Buffer[] {
    let keys = this.#keys.get(purpose)
    if (keys === undefined) {
      if (typeof purpose !== 'string' || purpose === '') throw new CarafeError('ERR_KEY_PURPOSE', 'a key needs a purpose, e.g. app.key(\'session\')')
      keys = Object.freeze(this.#secrets.map((s) => deriveKey(s, purpose)))
      this.#keys.set(purpose, keys)
    }
    return keys
  }

  /** The newest key for `purpose` (the one to sign with); `ERR_NO_SECRET` when there is none. */
  key(purpose: string): Buffer {
    const key = this.keys(purpose)[0]
    if (key === undefined) throw new CarafeError('ERR_NO_SECRET', `${purpose} keys need a secret: ${HOW_TO}. carafe run makes one for development by itself.`)
    return key
  }
}
