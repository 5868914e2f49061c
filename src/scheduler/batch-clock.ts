import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Where the driver gets the time from. The system clock in production; a `ManualClock` in
 * tests and in `sluice/testing`, so that batches run when the test says so, not when a
 * timer fires. Every time the driver records (batch times, delays, durations) comes from it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /**
   * Resolves true once `now() >= time`, or false as soon as `signal` aborts. While it
   * waits, the process stays alive, as a running stream should.
   */
  waitUntil(time: number, signal: AbortSignal): Promise<boolean>
}

/** The wall clock (`Date.now`) with real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  waitUntil: (time, signal) => waitUntil(time, signal),
}

/** Whether `value` can serve as a Clock (for option checks). */
export function isClock(value: unknown): value is Clock {
  const clock = value as Partial<Clock> | null
  return (
    clock !== null &&
    typeof clock === 'object' &&
    typeof clock.now === 'function' &&
    typeof clock.waitUntil === 'function'
  )
}

/**
 * Batch k is due at `startTime + k * intervalMs`, k counting from 0 (the first batch runs as
 * the stream starts, so a backlog is not kept waiting an interval). Times are computed from
 * the start rather than from the previous batch, so the schedule never drifts however long
 * batches take. A batch that starts after its due time (the previous one overran) records
 * the difference as its scheduling delay; batch times are never skipped.
 */
export class BatchClock {
  readonly startTime: number
  readonly intervalMs: number
  #next = 0

  constructor(startTime: number, intervalMs: number) {
    this.startTime = startTime
    this.intervalMs = intervalMs
  }

  /** The due time of the next batch, advancing the clock. */
  next(): number {
    return this.startTime + this.#next++ * this.intervalMs
  }
}

/**
 * Waits on the wall clock until `time` (ms since epoch). Resolves false at once if `signal`
 * aborts. The timer keeps the process alive, as a running stream should.
 */
export async function waitUntil(time: number, signal: AbortSignal): Promise<boolean> {
  const delay = time - Date.now()
  if (signal.aborted) return false
  if (delay <= 0) return true
  try {
    await sleep(delay, undefined, { signal })
    return true
  } catch {
    return false
  }
}
