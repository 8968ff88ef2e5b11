import type { SessionPatch, SessionRecord, SessionStore } from './store.js'
import { refusePerProcess } from '../util/workers.js'

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most sessions kept; past it the least recently used one goes first. @default 10000 */
  max?: number
  /** How often expired sessions are swept out, in seconds (they are also dropped when read). @default 60 */
  sweepInterval?: number
  /**
   * Allow it with several workers (`CARAFE_WORKERS` > 1, as `carafe start` sets), each with
   * its own sessions: only for sessions a user may lose whenever another worker answers.
   * @default false (refused with several workers: use `redisStore()` or `sqliteStore()`)
   */
  perProcess?: boolean
}

interface Entry {
  /** Each key's value as JSON text, so what a request reads is always its own copy. */
  values: Map<string, string>
  /** Epoch ms after which the session is gone. */
  expires: number
}

/**
 * Sessions in this process's memory: the default, for development and one-process sites.
 * Bounded (`max` sessions, least recently used out first) and expiring, so it never grows
 * without limit; lost on restart and not shared between workers: use `sqliteStore()` or
 * `redisStore()` for that (with `CARAFE_WORKERS` > 1 it is refused unless `perProcess: true`).
 *
 * @example
 * app.use(session({ store: memoryStore({ max: 50_000 }) }))
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore & { readonly size: number } {
  if (options.perProcess !== true) {
    refusePerProcess('memoryStore() (the default store of session()) keeps sessions in this process, so a user would be logged out whenever a request reaches another worker',
      "Keep them where every worker sees them: session({ store: redisStore({ url }) }) or session({ store: sqliteStore() }) from 'carafe/session'; or memoryStore({ perProcess: true }) if losing them that way is acceptable.")
  }
  const max = options.max ?? 10_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`memoryStore: max must be a positive integer, got ${max}`)
  const sweepMs = (options.sweepInterval ?? 60) * 1000
  const map = new Map<string, Entry>()
  let timer: NodeJS.Timeout | null = null

  const sweep = (): void => {
    const now = Date.now()
    for (const [id, e] of map) if (e.expires <= now) map.delete(id)
    if (map.size === 0 && timer !== null) {
      clearInterval(timer)
      timer = null
    }
  }
  const live = (id: string): Entry | undefined => {
    const e = map.get(id)
    if (e === undefined) return undefined
    if (e.expires <= Date.now()) {
      map.delete(id)
      return undefined
    }
    return e
  }
  /** Move to the young end (Map order is the LRU order) and keep the count bounded. */
  const bump = (id: string, e: Entry): void => {
    map.delete(id)
    map.set(id, e)
    while (map.size > max) map.delete(map.keys().next().value!)
    if (timer === null && sweepMs > 0) {
      timer = setInterval(sweep, sweepMs)
      timer.unref()
    }
  }

  return {
    kind: 'memory',
    get size() {
      return map.size
    },
    async get(id) {
      const e = live(id)
      if (e === undefined) return undefined
      const out: SessionRecord = {}
      for (const [k, v] of e.values) putValue(out, k, JSON.parse(v))
      return { data: out, expires: e.expires }
    },
    async apply(id, patch: SessionPatch, ttl) {
      let e = live(id)
      if (e === undefined) {
        if (patch.create !== true) return
        e = { values: new Map(), expires: 0 }
      }
      // Serialize first: a value JSON cannot carry fails before anything changes.
      const set = patch.set === undefined ? [] : Object.entries(patch.set).map(([k, v]) => [k, toJson(k, v)] as const)
      for (const k of patch.delete ?? []) e.values.delete(k)
      for (const [k, v] of set) e.values.set(k, v)
      e.expires = Date.now() + ttl * 1000
      bump(id, e)
    },
    async destroy(id) {
      map.delete(id)
    },
    async touch(id, ttl) {
      const e = live(id)
      if (e === undefined) return
      e.expires = Date.now() + ttl * 1000
      bump(id, e)
    },
    async close() {
      if (timer !== null) clearInterval(timer)
      timer = null
      map.clear()
    },
  }
}

/** A value as JSON text, or a clear error for one JSON cannot carry. */
export function toJson(key: string, value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (e) {
    throw new TypeError(`session key ${JSON.stringify(key)}: its value cannot be saved as JSON (${(e as Error).message})`)
  }
  if (text === undefined) throw new TypeError(`session key ${JSON.stringify(key)}: ${typeof value} values cannot be saved (JSON values only); use delete() to remove a key`)
  return text
}

/** `record[key] = value` as an own property, even for a key named `__proto__` (which `=` would turn into a prototype change). */
export function putValue(record: SessionRecord, key: string, value: unknown): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true })
}
