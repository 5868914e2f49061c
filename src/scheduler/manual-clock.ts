import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Clock } from './batch-clock.ts'

interface Waiter {
  readonly time: number
  readonly resolve: (reached: boolean) => void
}

/**
 * A clock that moves only when told to (Spark's ManualClock). Give it to a StreamingContext
 * (`clock` option) and a batch is due exactly when the test advances the clock to its time:
 * no timer, no sleeping, the same batch times and delays on every run.
 */
export class ManualClock implements Clock {
  #time: number
  readonly #waiters = new Set<Waiter>()
  #waitingListeners: (() => void)[] = []

  /** `startTime`: what `now()` returns until the clock is advanced (ms since the epoch). Default 0. */
  constructor(startTime = 0) {
    if (!Number.isSafeInteger(startTime) || startTime < 0) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `a ManualClock starts at a non-negative integer time (ms), got ${describeValue(startTime)}`,
      )
    }
    this.#time = startTime
  }

  now(): number {
    return this.#time
  }

  waitUntil(time: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false)
    if (time <= this.#time) return Promise.resolve(true)
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        time,
        resolve: (reached) => {
          this.#waiters.delete(waiter)
          signal.removeEventListener('abort', onAbort)
          resolve(reached)
        },
      }
      const onAbort = () => waiter.resolve(false)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiters.add(waiter)
      const listeners = this.#waitingListeners
      this.#waitingListeners = []
      for (const listener of listeners) listener()
    })
  }

  /** Moves the clock forward by `ms`, waking everyone whose time has come. */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `a ManualClock advances by a non-negative integer number of ms, got ${describeValue(ms)}`,
      )
    }
    this.setTime(this.#time + ms)
  }

  /** Sets the clock to `time`, which must not be in its past. */
  setTime(time: number): void {
    if (!Number.isSafeInteger(time) || time < this.#time) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `a ManualClock only moves forward: it is at ${this.#time}, asked for ${describeValue(time)}`,
      )
    }
    this.#time = time
    for (const waiter of [...this.#waiters]) if (waiter.time <= time) waiter.resolve(true)
  }

  /** The earliest time someone is waiting for, or undefined when nobody waits. */
  get nextWakeTime(): number | undefined {
    let earliest: number | undefined
    for (const waiter of this.#waiters) earliest = Math.min(earliest ?? waiter.time, waiter.time)
    return earliest
  }

  /** Resolves as soon as someone waits on the clock (at once if someone already does). */
  whenWaiting(): Promise<void> {
    if (this.#waiters.size > 0) return Promise.resolve()
    return new Promise((resolve) => this.#waitingListeners.push(resolve))
  }
}
