import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  type BatchRateLimits,
  clampUntilOffset,
  maxRecordsPerPartition,
  planBatchRanges,
} from '../../src/scheduler/batch-size-limit.ts'

const base: BatchRateLimits = { maxRatePerPartition: 0, minRatePerPartition: 1, batchIntervalMs: 1000 }

test('an estimated rate is split across partitions in proportion to their lag', () => {
  // 1000 records/s over lags 100 and 300: 250/s and 750/s, for a 1 s batch.
  assert.deepEqual(maxRecordsPerPartition([100n, 300n], { ...base, estimatedRate: 1000 }), [250n, 750n])
  // Same rates over a 2.5 s batch; lags 1 and 2: 333.33/s · 2.5 = 833.33 → 833, 666.67/s · 2.5 → 1666.
  assert.deepEqual(
    maxRecordsPerPartition([1n, 2n], { ...base, estimatedRate: 1000, batchIntervalMs: 2500 }),
    [833n, 1666n],
  )
})

test('maxRatePerPartition caps each share of the estimated rate', () => {
  // Shares 250/s and 750/s; the second is capped at 500/s.
  assert.deepEqual(
    maxRecordsPerPartition([100n, 300n], { ...base, estimatedRate: 1000, maxRatePerPartition: 500 }),
    [250n, 500n],
  )
})

test('without an estimate every partition gets maxRatePerPartition, whatever its lag', () => {
  assert.deepEqual(maxRecordsPerPartition([10n, 0n, 1_000_000n], { ...base, maxRatePerPartition: 50_000 }), [
    50_000n,
    50_000n,
    50_000n,
  ])
  // 2.5 s batches at 3/s: 7.5 → 7 records.
  assert.deepEqual(
    maxRecordsPerPartition([10n], { ...base, maxRatePerPartition: 3, batchIntervalMs: 2500 }),
    [7n],
  )
  // A rate that is not positive is no estimate (Spark filters it out the same way).
  assert.deepEqual(maxRecordsPerPartition([10n], { ...base, estimatedRate: 0, maxRatePerPartition: 4 }), [4n])
})

test('without an estimate nor maxRatePerPartition there is no limit', () => {
  assert.equal(maxRecordsPerPartition([100n, 300n], base), undefined)
})

test('zero total lag gives nobody a share and no limit, never NaN or Infinity', () => {
  assert.equal(maxRecordsPerPartition([0n, 0n], { ...base, estimatedRate: 1000 }), undefined)
  assert.equal(
    maxRecordsPerPartition([0n, 0n], { ...base, estimatedRate: 1000, maxRatePerPartition: 10 }),
    undefined,
  )
  assert.equal(maxRecordsPerPartition([], { ...base, estimatedRate: 1000 }), undefined)
  // A negative lag (latest offset behind the next offset) counts as no lag.
  assert.equal(maxRecordsPerPartition([-5n, 0n], { ...base, estimatedRate: 1000 }), undefined)
  assert.deepEqual(maxRecordsPerPartition([-5n, 10n], { ...base, estimatedRate: 1000 }), [1n, 1000n])
})

test('minRatePerPartition floors every limited partition', () => {
  // 10 records/s over lags 1 and 999: 0.01/s → 0 and 9.99/s → 9, the first floored to 1.
  assert.deepEqual(maxRecordsPerPartition([1n, 999n], { ...base, estimatedRate: 10 }), [1n, 9n])
  assert.deepEqual(
    maxRecordsPerPartition([1n, 999n], { ...base, estimatedRate: 10, minRatePerPartition: 5 }),
    [5n, 9n],
  )
  // A partition with no lag still gets the floor; clamping then keeps its range empty.
  assert.deepEqual(maxRecordsPerPartition([0n, 100n], { ...base, estimatedRate: 1000 }), [1n, 1000n])
})

test('shares stay exact for lags beyond 2^53', () => {
  const lag = 2n ** 60n
  assert.deepEqual(maxRecordsPerPartition([lag, lag * 3n], { ...base, estimatedRate: 4000 }), [1000n, 3000n])
})

test('clamp never goes past the latest offset nor below the from offset', () => {
  assert.equal(clampUntilOffset(100n, 1000n, 250n), 350n)
  assert.equal(clampUntilOffset(100n, 1000n, 5000n), 1000n)
  assert.equal(clampUntilOffset(100n, 1000n, undefined), 1000n)
  assert.equal(clampUntilOffset(100n, 100n, 250n), 100n)
  assert.equal(clampUntilOffset(100n, 90n, 250n), 100n)
  assert.equal(clampUntilOffset(100n, 90n, undefined), 100n)
  const big = 9_223_372_036_854_775_000n
  assert.equal(clampUntilOffset(big, big + 700n, 500n), big + 500n)
})

test('planBatchRanges plans every partition in order with the limits applied', () => {
  const positions = [
    { topic: 'words', partition: 0, fromOffset: 1000n, latestOffset: 1100n },
    { topic: 'words', partition: 1, fromOffset: 5000n, latestOffset: 5300n },
    { topic: 'clicks', partition: 0, fromOffset: 42n, latestOffset: 42n },
  ]
  assert.deepEqual(planBatchRanges(positions, { ...base, estimatedRate: 200 }), [
    // lags 100, 300, 0 share 200/s: 50/s, 150/s, 0/s (floored to 1, clamped to nothing)
    { topic: 'words', partition: 0, fromOffset: 1000n, untilOffset: 1050n },
    { topic: 'words', partition: 1, fromOffset: 5000n, untilOffset: 5150n },
    { topic: 'clicks', partition: 0, fromOffset: 42n, untilOffset: 42n },
  ])
  assert.deepEqual(planBatchRanges(positions, base), [
    { topic: 'words', partition: 0, fromOffset: 1000n, untilOffset: 1100n },
    { topic: 'words', partition: 1, fromOffset: 5000n, untilOffset: 5300n },
    { topic: 'clicks', partition: 0, fromOffset: 42n, untilOffset: 42n },
  ])
})
