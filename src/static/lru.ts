/**
 * A map bounded by a total cost (bytes) and a number of entries, dropping the least
 * recently used entries first. A `Map` keeps insertion order, so "used" means deleted and
 * set again; that is two hash operations, cheap next to a `stat`.
 */
export class LruCache<V> {
  readonly #map = new Map<string, { value: V; cost: number }>()
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
    this.#map.delete(key)
    this.#map.set(key, slot)
    return slot.value
  }

  /** Store `value`; an entry costlier than the whole budget is not stored. */
  set(key: string, value: V, cost: number): void {
    this.delete(key)
    if (cost > this.#maxCost) return
    this.#map.set(key, { value, cost })
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
      const oldest = this.#map.keys().next()
      if (oldest.done === true) return
      this.delete(oldest.value)
    }
  }
}
