import type { TestContext } from 'node:test'
import { createClient } from 'redis'
import { SERVICES, uniqueName } from '../helpers/services.js'

/** Delete every key under `prefix` in the Redis at `url` (SCAN, never KEYS or FLUSHALL: the Redis is shared). */
export async function deleteKeys(prefix: string, url: string = SERVICES.redis.url): Promise<void> {
  const c = createClient({ url, socket: { reconnectStrategy: false } })
  c.on('error', () => {})
  try {
    await c.connect()
  } catch {
    return // not running: nothing was written
  }
  try {
    for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length > 0) await c.del(keys)
  } finally {
    await c.close()
  }
}

/** A key prefix of this test's own in the shared Redis; what the test writes under it is deleted when it ends. */
export function redisTestPrefix(t: TestContext, name = 'carafe_test_sess'): string {
  const prefix = `${uniqueName(name)}:`
  t.after(() => deleteKeys(prefix))
  return prefix
}
