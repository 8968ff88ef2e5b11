import type { Algorithm, Options } from '@node-rs/argon2'
import { lazyRequire } from '../util/lazy.js'
import { Semaphore } from './semaphore.js'

/** The argon2 library on first use, so an app that only checks logins starts without it. */
const argon2 = (): typeof import('@node-rs/argon2') => lazyRequire<typeof import('@node-rs/argon2')>('@node-rs/argon2')

/** Options for {@link configurePasswords}. */
export interface PasswordOptions {
  /**
   * Most hashes computed at once; the rest wait their turn. Each takes `memoryCost` KiB and
   * one libuv thread, which file I/O and DNS share (4 by default, `UV_THREADPOOL_SIZE`).
   * @default 2
   */
  concurrency?: number
  /** Argon2id memory, in KiB. @default 19456 (19 MiB, OWASP) */
  memoryCost?: number
  /** Argon2id passes. @default 2 (OWASP) */
  timeCost?: number
  /** Argon2id lanes. @default 1 (OWASP) */
  parallelism?: number
}

/** What {@link passwordLoad} reports. */
export interface PasswordLoad {
  /** Hashes being computed now. */
  readonly running: number
  /** Hashes waiting for a turn. */
  readonly waiting: number
  /** The limit ({@link PasswordOptions.concurrency}). */
  readonly concurrency: number
}

// Argon2id's number in the library's (ambient const) enum, which isolatedModules cannot read.
const ARGON2ID = 2 as Algorithm

/** OWASP's password storage cheat sheet, argon2id: m=19456 (19 MiB), t=2, p=1. */
const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const gate = new Semaphore(2)
/** A hash of a random password with the current parameters, made once, for unknown users. */
let dummy: Promise<string> | null = null

/**
 * Change how passwords are hashed: the concurrency limit, or stronger (or differently
 * balanced) argon2id parameters. Existing hashes keep verifying (a PHC string names its
 * own parameters); {@link needsRehash} then says which ones to rehash at the next login.
 * Parameters weaker than OWASP's table (m ≥ 7168 KiB and m × t ≥ 35840, e.g. m=47104 t=1,
 * m=19456 t=2, m=7168 t=5) are refused.
 *
 * @example
 * configurePasswords({ concurrency: 4 })
 */
export function configurePasswords(options: PasswordOptions): void {
  const next = {
    memoryCost: options.memoryCost ?? params.memoryCost,
    timeCost: options.timeCost ?? params.timeCost,
    parallelism: options.parallelism ?? params.parallelism,
  }
  for (const [k, v] of Object.entries(next)) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`configurePasswords: ${k} must be a positive integer, got ${v}`)
  }
  if (next.memoryCost < 7168 || next.memoryCost * next.timeCost < 35840) {
    throw new TypeError(`configurePasswords: m=${next.memoryCost} t=${next.timeCost} is weaker than OWASP's argon2id minimum (m ≥ 7168 KiB and m × t ≥ 35840, e.g. m=19456 t=2)`)
  }
  if (options.concurrency !== undefined) gate.resize(options.concurrency)
  if (next.memoryCost !== params.memoryCost || next.timeCost !== params.timeCost || next.parallelism !== params.parallelism) {
    Object.assign(params, next)
    dummy = null
  }
}

/** How busy the password hasher is (for a health page or a test). */
export function passwordLoad(): PasswordLoad {
  return { running: gate.running, waiting: gate.waiting, concurrency: gate.limit }
}

function options(): Options {
  return { algorithm: ARGON2ID, memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism }
}

/**
 * Hash a password with argon2id (OWASP's parameters) into a self-describing PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), on a libuv thread, at most
 * `concurrency` at once.
 *
 * @example
 * user.passwordHash = await hashPassword(form.text('password'))
 */
export function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string') return Promise.reject(new TypeError('hashPassword takes a string'))
  const opts = options()
  return gate.run(() => argon2().hash(password, opts))
}

/**
 * True when `password` matches `hash`. With no hash (`undefined`/`null`: the user does not
 * exist), it verifies against a dummy hash of the current parameters and returns false,
 * so an unknown user costs the same time as a wrong password and gives the same answer.
 * A hash that is not an argon2 PHC string gives false and a logged warning, never a throw.
 *
 * @example
 * const user = await findByEmail(email)
 * if (!(await verifyPassword(user?.passwordHash, password))) return c.text('wrong email or password', 401)
 */
export async function verifyPassword(hash: string | undefined | null, password: string): Promise<boolean> {
  const given = typeof password === 'string' ? password : ''
  if (typeof hash !== 'string' || hash === '') {
    await check(await dummyHash(), given)
    return false
  }
  if (!looksLikeArgon2(hash)) {
    warnMalformed(hash)
    await check(await dummyHash(), given)
    return false
  }
  const ok = await check(hash, given)
  if (ok === undefined) {
    warnMalformed(hash)
    return false
  }
  return ok && typeof password === 'string'
}

/**
 * True when `hash` was not made with the current algorithm and parameters (older,
 * weaker settings, or not argon2id at all): hash the password again after a successful
 * login and store the new hash.
 *
 * @example
 * if (ok && needsRehash(user.passwordHash)) await saveHash(user, await hashPassword(password))
 */
export function needsRehash(hash: string): boolean {
  if (typeof hash !== 'string' || !looksLikeArgon2(hash)) return true
  try {
    const p = argon2().parseOptions(hash)
    return p.algorithm !== ARGON2ID || p.memoryCost !== params.memoryCost || p.timeCost !== params.timeCost || p.parallelism !== params.parallelism
  } catch {
    return true
  }
}

/** `undefined` when the library refused the hash as malformed. */
async function check(hash: string, password: string): Promise<boolean | undefined> {
  try {
    return await gate.run(() => argon2().verify(hash, password))
  } catch {
    return undefined
  }
}

function dummyHash(): Promise<string> {
  if (dummy === null) {
    const made = hashPassword(lazyRequire<typeof import('node:crypto')>('node:crypto').randomBytes(16).toString('base64url'))
    dummy = made
    made.catch(() => { if (dummy === made) dummy = null })
  }
  return dummy
}

function looksLikeArgon2(hash: string): boolean {
  return /^\$argon2(id|i|d)\$/.test(hash)
}

/** Names what kind of string it was (its first characters), never the whole hash. */
function warnMalformed(hash: string): void {
  console.warn(`[carafe] verifyPassword: the stored hash is not a valid argon2 PHC string (it starts ${JSON.stringify(hash.slice(0, 7))}…, ${hash.length} characters); the password was refused. Hash passwords with hashPassword().`)
}
