import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { planBatchRanges } from '../../src/scheduler/batch-size-limit.ts'
import { normalizeRateControlOptions } from '../../src/scheduler/rate-control-options.ts'
import { createRateController } from '../../src/scheduler/rate-controller.ts'

const backlog = [
  { topic: 'words', partition: 0, fromOffset: 0n, latestOffset: 10_000n },
  { topic: 'words', partition: 1, fromOffset: 0n, latestOffset: 30_000n },
]

test('no controller when backpressure is off', () => {
  assert.equal(
    createRateController(normalizeRateControlOptions({ maxRatePerPartition: 10 }), 1000),
    undefined,
  )
})

test('initialRate bounds the batches until the estimator has its first rate', () => {
  const settings = normalizeRateControlOptions({ backpressure: { enabled: true, initialRate: 200 } })
  const controller = createRateController(settings, 1000)!
  assert.equal(controller.latestRate, 200)
  const limits = { ...settings, batchIntervalMs: 1000, estimatedRate: controller.latestRate }
  // 200/s split 1:3 by lag over a 1 s batch: 50 and 150 records, not the whole 40 000 backlog.
  assert.deepEqual(planBatchRanges(backlog, limits), [
    { topic: 'words', partition: 0, fromOffset: 0n, untilOffset: 50n },
    { topic: 'words', partition: 1, fromOffset: 0n, untilOffset: 150n },
  ])
  // The first completed batch only calibrates the estimator: the limit stays 200.
  assert.equal(
    controller.onBatchCompleted({
      processingEndTime: 1000,
      numRecords: 200,
      processingDelay: 100,
      schedulingDelay: 0,
    }),
    undefined,
  )
  assert.equal(controller.latestRate, 200)
  // Calibrated at 200 / 100 ms = 2000/s; then 200 records in 400 ms = 500/s, no wait:
  // error = 1500, newRate = 2000 − 1500 = 500.
  assert.equal(
    controller.onBatchCompleted({
      processingEndTime: 2000,
      numRecords: 200,
      processingDelay: 400,
      schedulingDelay: 0,
    }),
    500,
  )
  assert.equal(controller.latestRate, 500)
})

test('without initialRate the first batches are limited by maxRatePerPartition only', () => {
  const settings = normalizeRateControlOptions({ maxRatePerPartition: 1000, backpressure: { enabled: true } })
  const controller = createRateController(settings, 1000)!
  assert.equal(controller.latestRate, undefined)
  assert.deepEqual(
    planBatchRanges(backlog, { ...settings, batchIntervalMs: 1000, estimatedRate: controller.latestRate }),
    [
      { topic: 'words', partition: 0, fromOffset: 0n, untilOffset: 1000n },
      { topic: 'words', partition: 1, fromOffset: 0n, untilOffset: 1000n },
    ],
  )
})

test('the controller state survives a JSON round trip and replaces initialRate', () => {
  const settings = normalizeRateControlOptions({ backpressure: { enabled: true, initialRate: 200 } })
  const first = createRateController(settings, 1000)!
  first.onBatchCompleted({
    processingEndTime: 1000,
    numRecords: 1000,
    processingDelay: 500,
    schedulingDelay: 0,
  })
  first.onBatchCompleted({
    processingEndTime: 2000,
    numRecords: 1000,
    processingDelay: 1000,
    schedulingDelay: 500,
  })
  const saved = JSON.parse(JSON.stringify(first.exportState()))
  assert.deepEqual(saved, {
    latestRate: 900,
    estimator: { firstRun: false, latestTime: 2000, latestRate: 900, latestError: 1000 },
  })
  const restored = createRateController(settings, 1000)!
  restored.restoreState(saved)
  assert.equal(restored.latestRate, 900)
  assert.equal(
    restored.onBatchCompleted({
      processingEndTime: 3000,
      numRecords: 900,
      processingDelay: 600,
      schedulingDelay: 200,
    }),
    1440,
  )
  assert.throws(() => restored.restoreState({ latestRate: -1, estimator: saved.estimator }), {
    code: ErrorCodes.STATE,
    message: 'saved rate controller state is invalid: latestRate must be a positive number, got -1',
  })
})
