import type { Logger } from '../core/logger.ts'
import type { StreamingListener } from './listener.ts'

type EventName = keyof StreamingListener
type EventOf<E extends EventName> = Parameters<NonNullable<StreamingListener[E]>>[0]

/**
 * Delivers the driver's events to listeners, in registration order. A listener is an
 * observer: one that throws, or returns a promise that rejects, is logged and skipped, and
 * the stream goes on. (Until this bus existed, a throwing onBatchCompleted stopped a healthy
 * stream right after its commit.) Returned promises are not awaited: the driver never waits
 * for a listener.
 */
export class ListenerBus {
  readonly #listeners: StreamingListener[] = []
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  add(listener: StreamingListener): void {
    this.#listeners.push(listener)
  }

  remove(listener: StreamingListener): void {
    const index = this.#listeners.indexOf(listener)
    if (index >= 0) this.#listeners.splice(index, 1)
  }

  post<E extends EventName>(event: E, payload: EventOf<E>): void {
    for (const listener of [...this.#listeners]) {
      const method = listener[event] as ((payload: EventOf<E>) => unknown) | undefined
      if (typeof method !== 'function') continue
      try {
        const result = method.call(listener, payload)
        if (isThenable(result)) result.then(undefined, (error: unknown) => this.#failed(event, error))
      } catch (error) {
        this.#failed(event, error)
      }
    }
  }

  #failed(event: EventName, error: unknown): void {
    this.#logger.warn('a streaming listener failed; the stream goes on', { event, error })
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
