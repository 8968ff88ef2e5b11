interface Slot<V> {
  value: V
  cost: number
  /** Used since eviction last looked at it (CLOCK's reference bit). */
  used: boolean
}

/**
 * A map bounded by a total cost (bytes) and a number of entries, dropping entries that
 * were not used recently first. It is CLOCK ("second chance") rather than a strict LRU:
 * a hit only sets a flag, where moving the entry to the end of a `Map` would cost a delete
 * and an insert on every request; eviction gives flagged entries one more round.
 */
export class LruCache<V> {
  readonly #map = new Map<string, Slot<V>>()
  readonly #maxCost: number
  readonly #maxEntries: number
  #cost = 0

  constructor(maxCost: number, maxEntries: number) {
    this.#maxCost = maxCost
    this.#maxEntries = maxEntries
  }

  /** The value for `key`, marked as recently used. */
  get(key: string): V | undefined {
    const slot = this.#map.get(key)
    if (slot === undefined) return undefined
    slot.used = true
    return slot.value
  }

  /** The value for `key`, without marking it used. */
  peek(key: string): V | undefined {
    return this.#map.get(key)?.value
  }

  /** Store `value`; an entry costlier than the whole budget is not stored. */
  set(key: string, value: V, cost: number): void {
    this.delete(key)
    if (cost > this.#maxCost) return
    this.#map.set(key, { value, cost, used: false })
    this.#cost += cost
    this.#evict()
  }

  /** Add to the cost of an entry that grew (e.g. a compressed copy was added). */
  grow(key: string, extra: number): void {
    const slot = this.#map.get(key)
    if (slot === undefined) return
    slot.cost += extra
    this.#cost += extra
    this.#evict()
  }

  delete(key: string): void {
    const slot = this.#map.get(key)
    if (slot === undefined) return
    this.#map.delete(key)
    this.#cost -= slot.cost
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size
  }

  /** Total cost of the entries. */
  get cost(): number {
    return this.#cost
  }

  clear(): void {
    this.#map.clear()
    this.#cost = 0
  }

  #evict(): void {
    while (this.#cost > this.#maxCost || this.#map.size > this.#maxEntries) {
      const oldest = this.#map.entries().next()
      if (oldest.done === true) return
      const [key, slot] = oldest.value
      this.#map.delete(key)
      if (slot.used && this.#map.size > 0) {
        // Second chance: to the back of the queue, flag cleared.
        slot.used = false
        this.#map.set(key, slot)
      } else this.#cost -= slot.cost
    }
  }
}
