// Optional hooks around a batch's output, shared by the sink examples. Applications leave
// them out; the crash and zombie tests use them to stop a job at an exact moment of a batch.
import type { Batch, BatchOutcome, ExactlyOnceSink, StreamingContext, StreamingListener } from 'sluice'

export interface BatchHooks {
  /** The batch's output is computed; its transaction has not begun. */
  readonly beforeTransaction?: (batch: Batch) => Promise<void> | void
  /** Inside the batch's transaction: the output is written, the commit has not happened. */
  readonly inTransaction?: (batch: Batch) => Promise<void> | void
  /** The sink committed the batch (or found it committed); the checkpoint commit has not happened. */
  readonly afterCommit?: (batch: Batch, outcome: BatchOutcome) => Promise<void> | void
}

/** Writes a batch through an exactly-once sink, calling the hooks around its transaction. */
export async function writeWithHooks<Tx>(
  sink: ExactlyOnceSink<Tx>,
  batch: Batch,
  hooks: BatchHooks,
  write: (tx: Tx) => Promise<void> | void,
): Promise<BatchOutcome> {
  await hooks.beforeTransaction?.(batch)
  const outcome = await sink.writeBatch(batch, async (tx) => {
    await write(tx)
    await hooks.inTransaction?.(batch)
  })
  await hooks.afterCommit?.(batch, outcome)
  return outcome
}

/**
 * Adds the listeners (before start, so a replayed batch is seen too), starts the stream, and
 * returns a promise that settles when it stops — with the sink closed by then.
 */
export async function startWithSink(
  ssc: StreamingContext,
  sink: { close(): Promise<void> },
  listeners: readonly StreamingListener[] = [],
): Promise<{ done: Promise<void> }> {
  for (const listener of listeners) ssc.addListener(listener)
  await ssc.start()
  // Wrapped: an async function returning a promise would wait for it.
  return { done: ssc.awaitTermination().finally(() => sink.close()) }
}
