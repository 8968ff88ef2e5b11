// Shared by the session scenarios: one user, the secret every server signs with, and the
// store the scenario asks for (BENCH_SCENARIO 'session' = memory, 'session-redis' = Redis
// on 127.0.0.1:6379 under a key prefix of its own, removed at exit).
export const USER = { id: 42, name: 'Kim', roles: ['member'] }
export const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef'
export const STORE = process.env.BENCH_SCENARIO === 'session-redis' ? 'redis' : 'memory'
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const PREFIX = `bench:${process.pid}:`
export const ME_BODY = JSON.stringify({ id: USER.id, name: USER.name })

/** Delete this process's Redis keys when it is stopped. */
export function cleanupOnExit(client) {
  const clean = async () => {
    try {
      for await (const keys of client.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 1000 })) {
        if (keys.length > 0) await client.del(keys)
      }
    } catch {}
    process.exit(0)
  }
  process.once('SIGTERM', clean)
  process.once('SIGINT', clean)
}

/** A connected node-redis client whose keys are removed when the server stops. */
export async function redisClient() {
  const { createClient } = await import('redis')
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  cleanupOnExit(client)
  return client
}
