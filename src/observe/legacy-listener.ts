// TEMPORARY: feeds observe's contract listener from today's thinner StreamingListener
// (onBatchStarted, onBatchCompleted, onStreamError). It goes when the stream layer emits the
// contract's events itself; until then latest offsets and lag are unknown (null).
import type { SluiceError } from '../core/errors.ts'
import type { BatchInfo as CurrentBatchInfo, StreamingListener as CurrentListener } from '../stream/batch.ts'
import type { BatchProgress, StreamingListener } from './contract.ts'

export function adaptListener(
  app: string,
  batchInterval: number,
  target: StreamingListener,
): CurrentListener {
  const running = new Map<
    number,
    { time: number; replay: boolean; offsetRanges: CurrentBatchInfo['offsetRanges'] }
  >()
  return {
    onBatchStarted(batch) {
      running.set(batch.id, { time: batch.time, replay: batch.replay, offsetRanges: batch.offsetRanges })
      target.onBatchStarted?.({
        batchId: batch.id,
        batchTime: batch.time,
        replay: batch.replay,
        startedAt: Date.now(),
      })
    },
    onBatchCompleted(info) {
      running.delete(info.id)
      const totalDelay = info.schedulingDelay + info.processingTime
      target.onBatchCompleted?.({
        ...info,
        totalDelay,
        progress: progressOf(app, batchInterval, info, totalDelay),
      })
    },
    onStreamError(error: SluiceError) {
      const batchId = typeof error.details.batchId === 'number' ? error.details.batchId : undefined
      const batch = batchId === undefined ? undefined : running.get(batchId)
      if (batchId !== undefined && batch) {
        const progress = progressOf(
          app,
          batchInterval,
          {
            id: batchId,
            time: batch.time,
            replay: batch.replay,
            offsetRanges: batch.offsetRanges,
            records: batch.offsetRanges.reduce((sum, r) => sum + r.count, 0),
            lostRecords: 0,
            schedulingDelay: 0,
            processingTime: 0,
            stateKeys: 0,
            stateBytes: 0,
          },
          0,
        )
        target.onBatchFailed?.({
          batchId,
          batchTime: batch.time,
          replay: batch.replay,
          error,
          progress: { ...progress, status: 'failed', error: { code: error.code, message: error.message } },
        })
      }
      target.onStreamingStopped?.({ app, time: Date.now(), graceful: false, error, batchesCompleted: 0 })
    },
  }
}

function progressOf(
  app: string,
  batchInterval: number,
  info: Omit<CurrentBatchInfo, 'signal' | 'startedAt'>,
  totalDelay: number,
): BatchProgress {
  const byTopic = new Map<string, CurrentBatchInfo['offsetRanges'][number][]>()
  for (const range of info.offsetRanges)
    byTopic.set(range.topic, [...(byTopic.get(range.topic) ?? []), range])
  return {
    app,
    batchId: info.id,
    batchTime: new Date(info.time).toISOString(),
    batchTimeMs: info.time,
    replay: info.replay,
    status: 'completed',
    numInputRecords: info.records,
    inputRecordsPerSecond: info.records / (batchInterval / 1000),
    processedRecordsPerSecond: info.processingTime === 0 ? 0 : info.records / (info.processingTime / 1000),
    schedulingDelayMs: info.schedulingDelay,
    processingTimeMs: info.processingTime,
    totalDelayMs: totalDelay,
    durationsMs: { planning: 0, outputs: info.processingTime, commit: 0 },
    outputs: [],
    sources: [
      {
        input: 'input',
        kind: 'kafka-direct',
        description: info.offsetRanges.map(String).join(' '),
        rateLimit: null,
        numInputRecords: info.records,
        lostRecords: info.lostRecords,
        partitions: info.offsetRanges.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          fromOffset: String(r.fromOffset),
          untilOffset: String(r.untilOffset),
          latestOffset: null,
          lag: null,
          records: r.count,
        })),
      },
    ],
    lostRecords: info.lostRecords,
    skippedRecords: 0,
    deadLetteredRecords: 0,
    state: { keys: info.stateKeys, bytes: info.stateBytes },
  }
}
