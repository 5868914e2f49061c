import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { isRetriableWireError, kafkaError } from './errors.ts'

export interface RetryOptions {
  /** Total time budget for retries; a broker restart on a laptop takes several seconds. */
  readonly timeoutMs: number
  readonly signal?: AbortSignal | undefined
  /** Called before each new attempt, e.g. to refresh metadata or drop a broken connection. */
  readonly beforeRetry?: (error: unknown, attempt: number) => void | Promise<void>
}

const firstBackoffMs = 50
const maxBackoffMs = 1000

/**
 * Runs `operation` until it succeeds, fails with a non-retriable error, or the time budget
 * is spent. Backoff doubles from 50 ms to 1 s so a short leader move costs little and a
 * broker restart does not hammer the socket.
 */
export async function retryKafka<T>(
  what: string,
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted()
    try {
      return await operation(attempt)
    } catch (error) {
      const retriable = isRetriableWireError(error)
      const backoff = Math.min(maxBackoffMs, firstBackoffMs * 2 ** (attempt - 1))
      if (!retriable) throw kafkaError(what, error)
      if (Date.now() + backoff > deadline) {
        const wrapped = kafkaError(what, error)
        throw new SluiceError(
          ErrorCodes.KAFKA,
          `${wrapped.message} (still failing after ${attempt} attempts in ${options.timeoutMs} ms)`,
          { retriable: true, cause: error, details: wrapped.details },
        )
      }
      await sleep(backoff, undefined, options.signal ? { signal: options.signal } : undefined)
      await options.beforeRetry?.(error, attempt)
    }
  }
}
