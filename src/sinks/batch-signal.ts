import type { SinkBatch } from './batch.ts'
import { batchAbandonedError } from './sink-errors.ts'

// A batch's signal (SinkBatch.signal) aborts when the batch must not be written after all: its
// partitions are being taken away, or the stream stops without waiting. Sinks check it before
// they commit, and stop waiting for the write function when it fires.

/** Thrown inside the transaction when the batch's signal aborted while the write function ran. */
export class Abandoned extends Error {
  readonly reason: unknown
  constructor(reason: unknown) {
    super('abandoned')
    this.reason = reason
  }
}

/** `work`, unless the batch's signal aborts first (then Abandoned); the write function may still be running. */
export async function untilAbandoned(batch: SinkBatch, work: Promise<void>): Promise<void> {
  const { signal } = batch
  if (signal === undefined) return work
  if (signal.aborted) throw new Abandoned(signal.reason)
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Abandoned(signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  work.catch(() => {})
  try {
    await Promise.race([work, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
  }
}

export function throwIfAbandoned(app: string, batch: SinkBatch): void {
  if (batch.signal?.aborted) throw batchAbandonedError(app, batch, batch.signal.reason)
}
