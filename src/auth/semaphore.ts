/**
 * At most `limit` tasks at once, the rest in a FIFO queue: bounds how many argon2 hashes
 * (19 MiB and a libuv thread each) run together, so a burst of logins cannot exhaust
 * memory or starve file I/O of the thread pool.
 */
export class Semaphore {
  #limit: number
  #running = 0
  readonly #queue: Array<() => void> = []

  constructor(limit: number) {
    this.#limit = checkLimit(limit)
  }

  get limit(): number {
    return this.#limit
  }

  get running(): number {
    return this.#running
  }

  get waiting(): number {
    return this.#queue.length
  }

  /** Change the limit; waiting tasks start at once when it grew. */
  resize(limit: number): void {
    this.#limit = checkLimit(limit)
    this.#drain()
  }

  /** Run `task` when a slot is free; settles as it does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        let p: Promise<T>
        try {
          p = task()
        } catch (e) {
          p = Promise.reject(e)
        }
        p.then(resolve, reject).finally(() => {
          this.#running--
          this.#drain()
        })
      })
      this.#drain()
    })
  }

  #drain(): void {
    while (this.#running < this.#limit && this.#queue.length > 0) {
      this.#running++
      this.#queue.shift()!()
    }
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`concurrency must be a positive integer, got ${limit}`)
  return limit
}
