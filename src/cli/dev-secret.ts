import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { lazyRequire } from '../util/lazy.js'

/** A fresh secret: 32 random bytes, base64url (43 characters), as `carafe secret` prints it. */
export function randomSecret(): string {
  // node:crypto only when a secret is made: every later start just reads the file.
  return lazyRequire<typeof import('node:crypto')>('node:crypto').randomBytes(32).toString('base64url')
}

/**
 * The development secret of the app in `root`: read from `<root>/.carafe/secret`, or made
 * there on first use (mode 0600, in a folder holding a `.gitignore` of `*`, so it is never
 * committed). `carafe run` passes it to the app as `CARAFE_DEV_SECRET` when no
 * `CARAFE_SECRET` is set, so signed cookies survive restarts without any setup.
 *
 * Development only: a production start (`carafe start`) must require `CARAFE_SECRET` and
 * never call this, so a server cannot silently sign with a key kept next to its code.
 */
export function devSecret(root: string): string {
  const dir = path.join(root, '.carafe')
  const file = path.join(dir, 'secret')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileSync(path.join(dir, '.gitignore'), '# Made by carafe run: local development state, never commit it.\n*\n')
  const secret = randomSecret()
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  // The mode given to writeFileSync passes through the umask; make sure.
  chmodSync(file, 0o600)
  return secret
}
