import type { ManualClock } from '../scheduler/manual-clock.ts'
import type { BatchInfo, FailedBatchInfo } from '../stream/batch.ts'
import type { DStream } from '../stream/dstream.ts'
import type { StreamingContext } from '../stream/streaming-context.ts'

type Outcome = { readonly info: BatchInfo } | { readonly failed: FailedBatchInfo }

/**
 * Runs a context's batches one by one on a ManualClock, without waiting for real time:
 * `next()` moves the clock to the next batch's due time when the stream is waiting for it,
 * and resolves once that batch is committed. Create it before `start()` so it sees every
 * batch, including a replay the start runs first.
 *
 *   const clock = new ManualClock()
 *   const ssc = new StreamingContext({ appName: 'test', batchInterval: 1000, clock })
 *   const driver = new BatchDriver(ssc, clock)
 *   ...define the job...
 *   await ssc.start()
 *   const first = await driver.next()      // batch 0, due at once
 *   const [b1, b2] = await driver.run(2)   // the clock moves 1000 ms per batch
 */
export class BatchDriver {
  readonly #clock: ManualClock
  readonly #outcomes: Outcome[] = []
  #taken = 0
  #stopped = false
  #changed: PromiseWithResolvers<void> = Promise.withResolvers<void>()

  constructor(context: StreamingContext, clock: ManualClock) {
    if (context.clock !== clock) {
      throw new TypeError(
        'the BatchDriver needs the ManualClock the StreamingContext was given (option clock)',
      )
    }
    this.#clock = clock
    context.addListener({
      onBatchCompleted: (info) => this.#record({ info }),
      onBatchFailed: (failed) => this.#record({ failed }),
      onStreamingStopped: () => {
        this.#stopped = true
        this.#wake()
      },
    })
  }

  /** Every batch committed so far, in order. */
  get completed(): BatchInfo[] {
    return this.#outcomes.flatMap((o) => ('info' in o ? [o.info] : []))
  }

  /**
   * The next batch's BatchInfo, once it is committed; rejects with its error if it fails,
   * or if the stream stops before another batch finishes.
   */
  async next(): Promise<BatchInfo> {
    for (;;) {
      const outcome = this.#outcomes[this.#taken]
      if (outcome) {
        this.#taken++
        if ('failed' in outcome) throw outcome.failed.error
        return outcome.info
      }
      if (this.#stopped) throw new Error('the stream stopped before another batch completed')
      const wake = this.#clock.nextWakeTime
      if (wake !== undefined) this.#clock.setTime(Math.max(wake, this.#clock.now()))
      await Promise.race([this.#changed.promise, this.#clock.whenWaiting()])
    }
  }

  /** The next `count` batches, run one after the other. */
  async run(count: number): Promise<BatchInfo[]> {
    const infos: BatchInfo[] = []
    for (let i = 0; i < count; i++) infos.push(await this.next())
    return infos
  }

  #record(outcome: Outcome): void {
    this.#outcomes.push(outcome)
    this.#wake()
  }

  #wake(): void {
    this.#changed.resolve()
    this.#changed = Promise.withResolvers<void>()
  }
}

/** What `collectBatches` gathers: every batch's elements, by batch id, in the order batches ran. */
export interface CollectedBatches<T> {
  readonly batches: { readonly id: number; readonly replay: boolean; readonly values: T[] }[]
  /** The elements of batch `id` (undefined if it had no output for this stream). */
  valuesOf(id: number): T[] | undefined
}

/** Adds an output operation that collects every batch of `stream` (Spark's TestOutputStream). */
export function collectBatches<T>(stream: DStream<T>): CollectedBatches<T> {
  const batches: { id: number; replay: boolean; values: T[] }[] = []
  stream.foreachBatch(async (rdd, batch) => {
    batches.push({ id: batch.id, replay: batch.replay, values: await rdd.collect() })
  })
  return { batches, valuesOf: (id) => batches.findLast((b) => b.id === id)?.values }
}
