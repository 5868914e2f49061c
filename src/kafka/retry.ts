import { setTimeout as sleep } from 'node:timers/promises'
import { SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { isRetriableWireError, kafkaError } from './errors.ts'

export interface RetryOptions {
  /** Total time budget for retries; a broker restart takes seconds, a controlled move less. */
  readonly timeoutMs: number
  readonly signal?: AbortSignal | undefined
  /** Called before each new attempt, e.g. to refresh metadata or drop a broken connection. */
  readonly beforeRetry?: (error: unknown, attempt: number) => void | Promise<void>
  /** Where retries and recoveries are reported; an outage should show in the logs as it happens. */
  readonly logger?: Logger | undefined
  /** The brokers the call talks to, named when the failure itself does not say which one failed. */
  readonly brokers?: readonly string[] | undefined
  /** The SASL user, named when authentication fails. */
  readonly username?: string | undefined
}

const firstBackoffMs = 50
const maxBackoffMs = 1000

/**
 * Runs `operation` until it succeeds, fails with a non-retriable error, or `timeoutMs` is
 * spent. Backoff doubles from 50 ms to 1 s so a short leader move costs little and a broker
 * restart does not hammer the socket. The final error names the broker(s) and the last
 * underlying cause (connection refused, DNS failure, timeout), and how long it was retried.
 */
export async function retryKafka<T>(
  what: string,
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const started = Date.now()
  const deadline = started + options.timeoutMs
  const context = options.username === undefined ? {} : { username: options.username }
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted()
    try {
      const result = await operation(attempt)
      if (attempt > 1) {
        options.logger?.info('a Kafka call succeeded after retrying', {
          what,
          attempts: attempt,
          ms: Date.now() - started,
        })
      }
      return result
    } catch (error) {
      if (!isRetriableWireError(error)) throw withBrokers(kafkaError(what, error, {}, context), options)
      const now = Date.now()
      if (now >= deadline) {
        const wrapped = withBrokers(kafkaError(what, error, {}, context), options)
        throw new SluiceError(
          wrapped.code,
          `${wrapped.message} (retried for ${options.timeoutMs} ms, ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}; ` +
            'retryTimeoutMs sets how long)',
          { retriable: true, cause: error, details: { ...wrapped.details, attempts: attempt } },
        )
      }
      if (attempt === 1) {
        options.logger?.warn('a Kafka call failed; retrying', {
          what,
          error: kafkaError(what, error, {}, context).message,
          retryTimeoutMs: options.timeoutMs,
        })
      }
      const backoff = Math.min(maxBackoffMs, firstBackoffMs * 2 ** (attempt - 1), deadline - now)
      await sleep(backoff, undefined, options.signal ? { signal: options.signal } : undefined)
      await options.beforeRetry?.(error, attempt)
    }
  }
}

/** Adds the brokers asked to a message that does not name any (e.g. "request timed out"). */
function withBrokers(error: SluiceError, options: RetryOptions): SluiceError {
  const brokers = options.brokers ?? []
  if (brokers.length === 0 || error.details.brokers !== undefined || !isConnectivity(error)) return error
  return new SluiceError(error.code, `${error.message} (brokers asked: ${brokers.join(', ')})`, {
    retriable: error.retriable,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    details: { ...error.details, brokers: [...brokers] },
  })
}

/** Whether an error is about reaching the cluster (not, say, an unknown topic). */
function isConnectivity(error: SluiceError): boolean {
  return error.details.kafkaError === undefined && error.details.topic === undefined
}
