import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { type HistoryChange, JobHistory } from '../../src/observe/history.ts'
import { syntheticFailure, syntheticInfo, syntheticProgress, syntheticStarted } from './synthetic.ts'

function history(historySize = 5) {
  let now = 10_000
  const h = new JobHistory({ app: 'synthetic', batchInterval: 1000, historySize, now: () => now })
  return { h, tick: (ms: number) => (now += ms) }
}

test('a batch moves from submitted to running to the finished ring, with its outputs on the way', () => {
  const { h, tick } = history()
  const changes: HistoryChange[] = []
  h.watch((change) => changes.push(change))
  h.onStreamingStarted({
    app: 'synthetic',
    time: 9_000,
    batchInterval: 1000,
    checkpoint: '/tmp/ckpt',
    resumedFrom: [],
    recovered: { pendingBatchId: null, recomputedBatches: 0 },
  })
  assert.equal(h.status, 'active')
  assert.equal(h.startedAt, 9_000)
  h.onBatchSubmitted({
    batchId: 0,
    batchTime: 9_000,
    replay: false,
    progress: syntheticProgress({ batchId: 0 }),
  })
  assert.equal(h.active.get(0)?.status, 'submitted')
  h.onBatchStarted(syntheticStarted(0, 10_005))
  h.onOutputOperationStarted({ batchId: 0, index: 0, name: 'foreachBatch', startedAt: 10_010 })
  h.onOutputOperationCompleted({
    batchId: 0,
    index: 0,
    name: 'foreachBatch',
    startedAt: 10_010,
    durationMs: 40,
  })
  assert.deepEqual(h.active.get(0)?.outputs, [
    { index: 0, name: 'foreachBatch', startedAt: 10_010, durationMs: 40, error: null },
  ])
  tick(100)
  h.onBatchCompleted(syntheticInfo({ batchId: 0, perPartition: [3, 4], lostRecords: 2, skippedRecords: 1 }))
  assert.equal(h.active.size, 0)
  assert.equal(h.finished.size, 1)
  assert.equal(h.lastCompletedAt, 10_100)
  assert.deepEqual(h.totals, {
    batchesCompleted: 1,
    batchesFailed: 0,
    batchesReplayed: 0,
    records: 7,
    lostRecords: 2,
    skippedRecords: 1,
    deadLetteredRecords: 0,
  })
  assert.deepEqual(
    changes.map((c) => [c.seq, c.kind, c.batchId]),
    [
      [1, 'started', null],
      [2, 'submitted', 0],
      [3, 'running', 0],
      [4, 'output', 0],
      [5, 'output', 0],
      [6, 'completed', 0],
    ],
  )
})

test('the history keeps only historySize finished batches; totals count every batch', () => {
  const { h } = history(3)
  for (let id = 0; id < 10; id++) h.onBatchCompleted(syntheticInfo({ batchId: id, replay: id === 0 }))
  assert.deepEqual(
    h.finished.toArray().map((b) => b.batchId),
    [7, 8, 9],
  )
  assert.equal(h.totals.batchesCompleted, 10)
  assert.equal(h.totals.batchesReplayed, 1)
  assert.equal(h.totals.records, 2000)
  assert.equal(h.lastCompleted()?.batchId, 9)
})

test('a failed batch is kept with its error and the job reads as failed', () => {
  const { h } = history()
  h.onBatchCompleted(syntheticInfo({ batchId: 0 }))
  h.onBatchStarted(syntheticStarted(1, 2))
  h.onBatchFailed(syntheticFailure({ batchId: 1 }, 'the output threw: disk full'))
  const error = new SluiceError(ErrorCodes.BATCH_FAILED, 'the output threw: disk full')
  h.onStreamingStopped({ app: 'synthetic', time: 20_000, graceful: false, error, batchesCompleted: 1 })
  assert.equal(h.status, 'failed')
  assert.deepEqual(h.error, { code: ErrorCodes.BATCH_FAILED, message: 'the output threw: disk full' })
  assert.equal(h.active.size, 0)
  const failed = h.finished.newest()
  assert.equal(failed?.status, 'failed')
  assert.equal(failed?.error?.message, 'the output threw: disk full')
  assert.equal(h.totals.batchesFailed, 1)
  assert.equal(h.lastCompleted()?.batchId, 0)
})

test('a graceful stop leaves the job stopped, and the context state wins over events', () => {
  let state: 'initialized' | 'active' | 'stopped' = 'initialized'
  const h = new JobHistory({ app: 'a', batchInterval: 10, historySize: 2, contextState: () => state })
  assert.equal(h.status, 'starting')
  state = 'active'
  assert.equal(h.status, 'active')
  h.onStreamingStopped({ app: 'a', time: 5, graceful: true, batchesCompleted: 0 })
  state = 'stopped'
  assert.equal(h.status, 'stopped')
  assert.equal(h.stoppedAt, 5)
})
