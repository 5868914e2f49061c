/**
 * A fixed-capacity buffer that keeps the newest `capacity` items: pushing into a full ring
 * drops the oldest. The UI's history lives in one, so a job that runs for months holds as
 * much as one that ran for an hour.
 */
export class Ring<T> {
  readonly capacity: number
  readonly #items: (T | undefined)[]
  /** Index the next push writes to. */
  #next = 0
  #size = 0

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a ring needs a positive integer capacity, got ${String(capacity)}`)
    }
    this.capacity = capacity
    this.#items = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.#size
  }

  /** Adds `item` as the newest; returns the item it pushed out, if the ring was full. */
  push(item: T): T | undefined {
    const dropped = this.#size === this.capacity ? this.#items[this.#next] : undefined
    this.#items[this.#next] = item
    this.#next = (this.#next + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
    return dropped
  }

  /** The item `age` pushes back: 0 is the newest, size - 1 the oldest. */
  newest(age = 0): T | undefined {
    if (!Number.isInteger(age) || age < 0 || age >= this.#size) return undefined
    return this.#items[(this.#next - 1 - age + this.capacity) % this.capacity]
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = []
    for (let age = this.#size - 1; age >= 0; age--) out.push(this.newest(age) as T)
    return out
  }

  /** Newest first, from the newest `skip` on, at most `limit` items. */
  page(skip: number, limit: number): T[] {
    const out: T[] = []
    for (let age = skip; age < this.#size && out.length < limit; age++) out.push(this.newest(age) as T)
    return out
  }

  /** The newest item matching `predicate`, searching newest first. */
  find(predicate: (item: T) => boolean): T | undefined {
    for (let age = 0; age < this.#size; age++) {
      const item = this.newest(age) as T
      if (predicate(item)) return item
    }
    return undefined
  }
}
