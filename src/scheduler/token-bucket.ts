import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'

/**
 * A token bucket: `rate` tokens per second flow in, up to `capacity` are kept, and every
 * record takes one. A receiver that takes more than the bucket holds goes into debt and is
 * told how long to wait until the debt is paid off — it then stops reading for that long
 * (Spark's receiver blocks a thread in Guava's RateLimiter instead; an event loop cannot).
 * Time is passed in, so the bucket is a pure function of the calls made on it.
 */
export class TokenBucket {
  #rate: number
  #capacity: number
  #tokens: number
  #updatedAt: number

  /**
   * @param rate tokens per second; `Infinity` means no limit
   * @param capacity the most tokens kept while idle (the burst a quiet receiver may read at once)
   * @param now the current time, in ms
   */
  constructor(rate: number, capacity: number, now: number) {
    checkRate(rate)
    checkCapacity(capacity)
    this.#rate = rate
    this.#capacity = capacity
    this.#tokens = capacity
    this.#updatedAt = now
  }

  /** Tokens per second now in force. */
  get rate(): number {
    return this.#rate
  }

  /** Tokens available at `now` (negative while in debt). */
  tokens(now: number): number {
    this.#refill(now)
    return this.#tokens
  }

  /** Changes the rate and capacity from `now` on; tokens already earned are kept, up to the new capacity. */
  update(rate: number, capacity: number, now: number): void {
    checkRate(rate)
    checkCapacity(capacity)
    this.#refill(now)
    this.#rate = rate
    this.#capacity = capacity
    this.#tokens = Math.min(this.#tokens, capacity)
  }

  /**
   * Takes `count` tokens at `now`. Returns 0 when the bucket stays out of debt, else the ms
   * until it is out of debt again: the caller should take nothing more until then.
   */
  take(count: number, now: number): number {
    if (this.#rate === Number.POSITIVE_INFINITY) return 0
    this.#refill(now)
    this.#tokens -= count
    if (this.#tokens >= 0) return 0
    return Math.ceil((-this.#tokens * 1000) / this.#rate)
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt
    this.#updatedAt = now
    if (elapsed <= 0 || this.#rate === Number.POSITIVE_INFINITY) return
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.#rate) / 1000)
  }
}

function checkRate(rate: number): void {
  if (typeof rate !== 'number' || Number.isNaN(rate) || rate <= 0) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `a token bucket's rate must be a positive number of tokens per second (or Infinity), got ${describeValue(rate)}`,
    )
  }
}

function checkCapacity(capacity: number): void {
  if (typeof capacity !== 'number' || !Number.isFinite(capacity) || capacity < 1) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `a token bucket's capacity must be a finite number of at least 1, got ${describeValue(capacity)}`,
    )
  }
}
