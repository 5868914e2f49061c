import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { partitionKey } from '../../src/core/partition-key.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import type { PartitionOffset } from '../../src/kafka/types.ts'
import { planKafkaBatch, rateLimitOf } from '../../src/source/kafka-batch-planner.ts'
import { decodeKafkaPlan, encodeKafkaPlan } from '../../src/source/kafka-plan.ts'

const noLimits = { maxRatePerPartition: 0, minRatePerPartition: 1, batchIntervalMs: 1000 }

function positions(...entries: [string, number, bigint][]): Map<string, PartitionOffset> {
  return new Map(
    entries.map(([topic, partition, offset]) => [
      partitionKey(topic, partition),
      { topic, partition, offset },
    ]),
  )
}

test('planning: ranges from each position to the latest offset; retention skipped to the log start as a lost range', () => {
  const result = planKafkaBatch({
    partitions: [
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'a', partition: 2 },
    ],
    logStarts: [0n, 40n, 0n],
    logEnds: [100n, 90n, 7n],
    positions: positions(['a', 0, 30n], ['a', 1, 10n]),
    owns: (topic) => topic === 'a',
    limits: noLimits,
  })
  assert.deepEqual(
    result.plan.ranges.map((r) => [String(r.range), r.latestOffset]),
    [
      ['a-0 [30, 100)', 100n],
      ['a-1 [40, 90)', 90n],
      ['a-2 [0, 7)', 7n], // new partition: from its log start
    ],
  )
  assert.deepEqual(result.plan.lost.map(String), ['a-1 [10, 40)'])
  assert.deepEqual(
    result.problems.map((p) => [p.kind, p.partition, p.position, p.logStart]),
    [['deleted', 1, 10n, 40n]],
  )
  assert.deepEqual(
    [...result.positions.values()].map((p) => [p.partition, p.offset]),
    [
      [0, 100n],
      [1, 90n],
      [2, 7n],
    ],
  )
  assert.equal(result.plan.rateLimit, null)
})

test('planning: a log that ends before the position continues from the log end, reported as shrunk', () => {
  const result = planKafkaBatch({
    partitions: [{ topic: 'a', partition: 0 }],
    logStarts: [0n],
    logEnds: [5n],
    positions: positions(['a', 0, 50n]),
    owns: () => true,
    limits: noLimits,
  })
  assert.deepEqual(
    result.plan.ranges.map((r) => String(r.range)),
    ['a-0 [5, 5)'],
  )
  assert.deepEqual(result.plan.lost, [])
  assert.deepEqual(
    result.problems.map((p) => [p.kind, p.position, p.logEnd]),
    [['shrunk', 50n, 5n]],
  )
})

test('planning: positions of partitions the subscription dropped are parked; those of deleted topics are forgotten', () => {
  const result = planKafkaBatch({
    partitions: [{ topic: 'a', partition: 0 }],
    logStarts: [0n],
    logEnds: [10n],
    positions: positions(['a', 0, 4n], ['old', 1, 77n], ['old', 0, 70n], ['gone', 0, 3n]),
    owns: (topic) => topic === 'a' || topic === 'gone',
    limits: noLimits,
  })
  assert.deepEqual(result.plan.parked, [
    { topic: 'old', partition: 0, offset: 70n },
    { topic: 'old', partition: 1, offset: 77n },
  ])
  assert.deepEqual(result.forgotten, [{ topic: 'gone', partition: 0, offset: 3n }])
  assert.deepEqual(
    [...result.positions.keys()].sort(),
    [partitionKey('a', 0), partitionKey('old', 0), partitionKey('old', 1)].sort(),
  )
})

test('the rate limit in force is the smaller of backpressure and maxRatePerPartition x partitions', () => {
  assert.equal(rateLimitOf({ ...noLimits, maxRatePerPartition: 100 }, 3), 300)
  assert.equal(rateLimitOf({ ...noLimits, maxRatePerPartition: 100, estimatedRate: 250 }, 3), 250)
  assert.equal(rateLimitOf({ ...noLimits, estimatedRate: 250 }, 3), 250)
  assert.equal(rateLimitOf(noLimits, 3), null)
  assert.equal(rateLimitOf({ ...noLimits, maxRatePerPartition: 100 }, 0), null)
})

test('a Kafka plan round-trips through JSON; a malformed one fails naming the field', () => {
  const plan = {
    ranges: [
      {
        range: OffsetRange.create('a', 0, 9_007_199_254_740_993n, 9_007_199_254_741_000n),
        latestOffset: 9_007_199_254_741_010n,
      },
    ],
    lost: [OffsetRange.create('a', 1, 3n, 9n)],
    parked: [{ topic: 'old', partition: 0, offset: 70n }],
    rateLimit: 1500,
    lostRecords: 0,
    v1SharedRanges: false,
  }
  const json = encodeKafkaPlan(plan)
  assert.deepEqual(json, {
    ranges: [
      {
        topic: 'a',
        partition: 0,
        fromOffset: '9007199254740993',
        untilOffset: '9007199254741000',
        latestOffset: '9007199254741010',
      },
    ],
    lost: [{ topic: 'a', partition: 1, fromOffset: '3', untilOffset: '9' }],
    parked: [{ topic: 'old', partition: 0, offset: '70' }],
    rateLimit: 1500,
  })
  assert.deepEqual(decodeKafkaPlan(JSON.parse(JSON.stringify(json))), plan)
  const invalid = (value: unknown, message: string) =>
    assert.throws(() => decodeKafkaPlan(value as never), {
      code: ErrorCodes.INVALID_ARGUMENT,
      message: `a Kafka plan is malformed: ${message}`,
    })
  invalid({ ranges: 'x' }, '\'ranges\' must be an array, got "x"')
  invalid(
    { ranges: [{ topic: 'a', partition: 0, fromOffset: 5, untilOffset: '6' }] },
    "'ranges[0].fromOffset' must be a decimal string (an offset), got 5",
  )
  invalid(
    { ranges: [{ topic: 'a', partition: 0, fromOffset: '7', untilOffset: '6' }] },
    'ranges[0]: offset range a-0 [7, 6): fromOffset must not exceed untilOffset',
  )
  invalid({ ranges: [], rateLimit: -1 }, "'rateLimit' must be a non-negative number, got -1")
})
