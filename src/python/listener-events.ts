import type { Batch } from '../stream/batch.ts'
import type { StreamingListener } from '../stream/listener.ts'

type Frame = Record<string, unknown>

/** What the driver learns about a batch: offsets as plain integers, ranges as tuples. */
export function batchFrame(batch: Batch): Frame {
  return {
    id: batch.id,
    time: batch.time,
    replay: batch.replay,
    offset_ranges: batch.offsetRanges.map((r) => [r.topic, r.partition, r.fromOffset, r.untilOffset]),
  }
}

function errorFrame(error: { code?: string; message: string } | undefined): Frame | null {
  return error === undefined ? null : { code: error.code ?? 'SLUICE_INTERNAL', message: error.message }
}

/**
 * A listener that sends the stream's events to the Python driver (`['evt', 'listener',
 * {kind, ...}]`), where `StreamingContext.add_listener` objects receive them in order with
 * the batches' foreach_batch calls. Only plain data crosses: the batch as `batchFrame`
 * gives it, the progress record as the JSON it already is.
 */
export function forwardingListener(send: (event: Frame) => void): StreamingListener {
  return {
    onStreamingStarted: (event) =>
      send({
        kind: 'streaming_started',
        app: event.app,
        time: event.time,
        checkpoint: event.checkpoint,
        pending_batch_id: event.recovered.pendingBatchId,
        recomputed_batches: event.recovered.recomputedBatches,
        resumed_from: event.resumedFrom.map((position) => ({
          input: position.input,
          fresh: position.fresh,
          description: position.description,
          offsets: position.offsets.map((o) => [o.topic, o.partition, Number(o.offset)]),
        })),
      }),
    onStreamingStopped: (event) =>
      send({
        kind: 'streaming_stopped',
        time: event.time,
        graceful: event.graceful,
        batches_completed: event.batchesCompleted,
        error: errorFrame(event.error),
      }),
    onBatchSubmitted: (event) =>
      send({
        kind: 'batch_submitted',
        batch_id: event.batchId,
        batch_time: event.batchTime,
        replay: event.replay,
      }),
    onBatchStarted: (event) =>
      send({ kind: 'batch_started', batch: batchFrame(event), started_at: event.startedAt }),
    onBatchCompleted: (info) =>
      send({
        kind: 'batch_completed',
        batch: batchFrame(info),
        records: info.records,
        lost_records: info.lostRecords,
        scheduling_delay_ms: info.schedulingDelay,
        processing_time_ms: info.processingTime,
        total_delay_ms: info.totalDelay,
        started_at: info.startedAt,
        state_keys: info.stateKeys,
        progress: info.progress,
      }),
    onBatchFailed: (info) =>
      send({
        kind: 'batch_failed',
        batch_id: info.batchId,
        batch_time: info.batchTime,
        replay: info.replay,
        error: errorFrame(info.error),
        progress: info.progress,
      }),
  }
}
