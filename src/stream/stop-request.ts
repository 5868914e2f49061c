export type StopKind = 'graceful' | 'forced'

/**
 * A stop asked of the driver. Graceful: the running batch finishes and commits, nothing new
 * is planned. Forced: the running batch is abandoned uncommitted (a restart re-runs it).
 * A forced request overrides a graceful one, never the reverse.
 */
export class StopRequest {
  readonly #any = new AbortController()
  readonly #forced = new AbortController()
  #kind: StopKind | undefined

  get kind(): StopKind | undefined {
    return this.#kind
  }

  /** Aborts at the first request of either kind: wakes a loop waiting for the next batch's time. */
  get requestedSignal(): AbortSignal {
    return this.#any.signal
  }

  /** Aborts on a forced stop: every batch's `signal`, so that long output work can give up. */
  get forcedSignal(): AbortSignal {
    return this.#forced.signal
  }

  request(kind: StopKind): void {
    if (this.#kind === 'forced') return
    this.#kind = kind
    this.#any.abort(new Error('the stream is stopping'))
    if (kind === 'forced') this.#forced.abort(new Error('the stream was stopped'))
  }
}
