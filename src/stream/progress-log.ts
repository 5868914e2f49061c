import type { Logger } from '../core/logger.ts'
import { type SourceProgress, totalLag } from './batch-progress.ts'
import type { StreamingListener } from './listener.ts'

/**
 * The job's own account of itself in the log, one JSON line per event at INFO: started
 * (where each input resumes), recovered (what a restart re-runs), every committed batch
 * (records, delays, lag, rate limit), and stopped. A failed batch is logged at ERROR by the
 * context, with the error that stopped the stream.
 */
export function progressLogger(logger: Logger): StreamingListener {
  return {
    onStreamingStarted: (event) => {
      if (event.recovered.pendingBatchId !== null || event.recovered.recomputedBatches > 0) {
        logger.info('recovered from the checkpoint', {
          checkpoint: event.checkpoint,
          pendingBatchId: event.recovered.pendingBatchId,
          recomputedBatches: event.recovered.recomputedBatches,
        })
      }
      logger.info('stream started', {
        batchInterval: event.batchInterval,
        checkpoint: event.checkpoint,
        resumedFrom: event.resumedFrom.map((position) => ({
          input: position.input,
          from: position.fresh
            ? `${position.description} (new: from its starting options)`
            : position.description,
        })),
      })
    },
    onBatchCompleted: (info) => {
      const { progress } = info
      logger.info('batch completed', {
        batchId: info.id,
        batchTime: progress.batchTime,
        ...(info.replay ? { replay: true } : {}),
        records: info.records,
        schedulingDelayMs: info.schedulingDelay,
        processingTimeMs: info.processingTime,
        totalDelayMs: info.totalDelay,
        lag: totalLag(progress),
        ...rateLimitFields(progress.sources),
        ...(info.lostRecords > 0 ? { lostRecords: info.lostRecords } : {}),
        ...(progress.skippedRecords > 0 ? { skippedRecords: progress.skippedRecords } : {}),
        ...(progress.deadLetteredRecords > 0 ? { deadLetteredRecords: progress.deadLetteredRecords } : {}),
      })
    },
    onStreamingStopped: (event) => {
      const fields = { graceful: event.graceful, batchesCompleted: event.batchesCompleted }
      if (event.error) logger.error('stream stopped by a failure', { ...fields, error: event.error })
      else logger.info('stream stopped', fields)
    },
  }
}

/** `rateLimit` when one input is limited; `rateLimits` per input when several are; nothing when none is. */
function rateLimitFields(sources: readonly SourceProgress[]): Record<string, unknown> {
  const limited = sources.filter((source) => source.rateLimit !== null)
  if (limited.length === 0) return {}
  if (limited.length === 1) return { rateLimit: Math.round(limited[0]!.rateLimit!) }
  return { rateLimits: Object.fromEntries(limited.map((s) => [s.input, Math.round(s.rateLimit!)])) }
}
