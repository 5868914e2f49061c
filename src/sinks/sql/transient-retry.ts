import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../../core/logger.ts'

export interface TransientRetryOptions {
  /** Time budget, counted from the first failure: an outage shorter than this costs no failure. */
  readonly timeoutMs: number
  /** True for a failure worth another attempt; checked on the error and each of its causes. */
  readonly isTransient: (error: unknown) => boolean
  readonly logger: Logger
  /** Log fields naming what is retried (batch, database). */
  readonly context: Record<string, unknown>
}

/** Every attempt failed transiently until the time budget was spent; `lastError` is the last failure. */
export class RetriesExhausted extends Error {
  readonly attempts: number
  readonly lastError: unknown

  constructor(attempts: number, lastError: unknown) {
    super(`still failing after ${attempts} attempts`, { cause: lastError })
    this.name = 'RetriesExhausted'
    this.attempts = attempts
    this.lastError = lastError
  }
}

const firstBackoffMs = 50
const maxBackoffMs = 1000

/** True when `error` or any error in its `cause` chain satisfies `test`. */
export function anyCause(error: unknown, test: (error: unknown) => boolean): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (test(current)) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/**
 * Runs `attempt` until it succeeds, fails for a reason that is not transient (rethrown as
 * is), or keeps failing transiently for `timeoutMs` (then `RetriesExhausted`). Each attempt
 * is told the previous attempt's error. Backoff doubles from 50 ms to 1 s: a dropped
 * connection is retried at once, a restarting server is not hammered.
 */
export async function retryTransient<T>(
  attempt: (previousError: unknown) => Promise<T>,
  options: TransientRetryOptions,
): Promise<T> {
  let deadline: number | undefined
  let previousError: unknown
  for (let attempts = 1; ; attempts++) {
    try {
      const result = await attempt(previousError)
      if (attempts > 1)
        options.logger.info('the database is back; retrying succeeded', { ...options.context, attempts })
      return result
    } catch (error) {
      if (!anyCause(error, options.isTransient)) throw error
      deadline ??= Date.now() + options.timeoutMs
      const backoff = Math.min(maxBackoffMs, firstBackoffMs * 2 ** (attempts - 1))
      if (Date.now() + backoff > deadline) throw new RetriesExhausted(attempts, error)
      if (attempts === 1) {
        options.logger.warn('a transient database failure; retrying', { ...options.context, error })
      }
      previousError = error
      await sleep(backoff)
    }
  }
}
