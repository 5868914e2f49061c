import { channel } from 'node:diagnostics_channel'
import { ErrorCodes, isSluiceError } from '../core/errors.ts'
import type { BatchOutcome } from './sink.ts'

/**
 * Every sink publishes one message on this channel after each `writeBatch`, whatever its
 * outcome — the feed for metrics such as `sluice_sink_transactions_total{sink,outcome}`.
 * Subscribe with `diagnostics_channel.subscribe(sinkBatchChannelName, onMessage)`; publishing
 * costs nothing while nobody listens.
 */
export const sinkBatchChannelName = 'sluice:sink:batch'

/** Which sink published a SinkBatchEvent. */
export type SinkKind = 'sql' | 'kafka' | 'file'

/** What a `writeBatch` call came to: written now, written before, refused as a zombie, or failed. */
export type SinkBatchOutcome = BatchOutcome | 'fenced' | 'failed'

/** The message every sink publishes on `sinkBatchChannelName` after each `writeBatch`. */
export interface SinkBatchEvent {
  readonly app: string
  readonly sink: SinkKind
  /** The batch's id; -1 when the batch handed to the sink had none. */
  readonly batchId: number
  readonly outcome: SinkBatchOutcome
  /** Wall time of the `writeBatch` call, retries included, in milliseconds. */
  readonly durationMs: number
}

const sinkBatchChannel = channel(sinkBatchChannelName)

/**
 * Runs one `writeBatch` and publishes its outcome. FENCED errors count as 'fenced', every
 * other error as 'failed'; the error itself is rethrown unchanged.
 */
export async function publishingOutcome(
  app: string,
  sink: SinkKind,
  batch: { readonly id?: unknown },
  write: () => Promise<BatchOutcome>,
): Promise<BatchOutcome> {
  const started = performance.now()
  let outcome: SinkBatchOutcome = 'failed'
  try {
    outcome = await write()
    return outcome
  } catch (error) {
    if (isSluiceError(error, ErrorCodes.FENCED)) outcome = 'fenced'
    throw error
  } finally {
    if (sinkBatchChannel.hasSubscribers) {
      const batchId = typeof batch?.id === 'number' ? batch.id : -1
      const durationMs = performance.now() - started
      sinkBatchChannel.publish({ app, sink, batchId, outcome, durationMs } satisfies SinkBatchEvent)
    }
  }
}
