// Runs a stream job until it has read a whole backlog, and times it.
import type { StreamingContext } from '../src/stream/streaming-context.ts'

export interface BacklogRun {
  readonly ms: number
  readonly records: number
  readonly batches: number
  readonly largestBatch: number
  /** performance.now() when the batch holding the last record completed. */
  readonly doneAt: number
}

export async function runUntilConsumed(ssc: StreamingContext, total: number): Promise<BacklogRun> {
  let records = 0
  let batches = 0
  let largestBatch = 0
  const done = Promise.withResolvers<void>()
  ssc.addListener({
    onBatchCompleted: (info) => {
      records += info.records
      largestBatch = Math.max(largestBatch, info.records)
      if (info.records > 0) batches++
      if (records >= total) done.resolve()
    },
  })
  const started = performance.now()
  await ssc.start()
  await done.promise
  const doneAt = performance.now()
  const ms = doneAt - started
  await ssc.stop()
  return { ms, records, batches, largestBatch, doneAt }
}
