import { Admin } from '@platformatic/kafka'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { kafkaError } from './errors.ts'
import { type ResolvedClientOptions, wireClientOptions } from './options.ts'
import { type RetryOptions, retryKafka } from './retry.ts'

/**
 * What the modules of one KafkaClient share: the validated options, the logger, the wire
 * client's admin connection (metadata, offsets, topic and group administration), and the
 * retry policy of the read path.
 */
export class KafkaConnection {
  readonly options: ResolvedClientOptions
  readonly logger: Logger
  readonly admin: Admin
  #closed = false

  constructor(options: ResolvedClientOptions) {
    this.options = options
    this.logger = options.logger.child({ component: 'kafka' })
    // No retries inside the wire client: every call through this connection runs under
    // `retry` below, and nested retry loops multiply (4 × 4 request timeouts for one call).
    this.admin = new Admin({ ...wireClientOptions(options, 'admin'), retries: 0 })
  }

  get closed(): boolean {
    return this.#closed
  }

  checkOpen(): void {
    if (this.#closed) throw new SluiceError(ErrorCodes.CLOSED, 'the Kafka client is closed')
  }

  /**
   * Runs `operation` under the read path's retry policy: retriable failures are retried with
   * backoff until `retryTimeoutMs`, and the final error names the brokers and the cause.
   */
  retry<T>(
    what: string,
    operation: (attempt: number) => Promise<T>,
    extra: Pick<RetryOptions, 'signal' | 'beforeRetry'> = {},
  ): Promise<T> {
    return retryKafka(
      what,
      async (attempt) => {
        this.checkOpen()
        return operation(attempt)
      },
      {
        timeoutMs: this.options.retryTimeoutMs,
        logger: this.logger,
        brokers: this.options.brokers,
        username: this.options.sasl?.username,
        ...extra,
      },
    )
  }

  /** A wire-client failure as a SluiceError saying what was done, where and why (naming the SASL user). */
  failure(what: string, error: unknown, details: Record<string, unknown> = {}): SluiceError {
    const username = this.options.sasl?.username
    return kafkaError(what, error, details, username === undefined ? {} : { username })
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.admin.close()
  }
}
