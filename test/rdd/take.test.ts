import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { partitionsToTry } from '../../src/rdd/take.ts'
import { chunksOfRange, countingSource, type SourceStats } from './support.ts'

/** Four partitions of ten records each, in chunks of two: partition p holds 10p..10p+9. */
function fourPartitions() {
  return countingSource([0, 1, 2, 3].map((p) => chunksOfRange(p * 10, p * 10 + 10, 2)))
}

/** Which partitions each job computed, job by job. */
function partitionsPerJob(stats: SourceStats): number[][] {
  const jobs = new Map<number, number[]>()
  for (const ctx of stats.computed) jobs.set(ctx.jobId, [...(jobs.get(ctx.jobId) ?? []), ctx.partition])
  return [...jobs.values()].map((partitions) => partitions.sort((a, b) => a - b))
}

test('take(n) reads one partition first and stops it as soon as it has n records', async () => {
  const { rdd, stats } = fourPartitions()
  assert.deepEqual(await rdd.take(3), [0, 1, 2])
  assert.deepEqual(partitionsPerJob(stats), [[0]])
  assert.deepEqual(stats.chunksPulled, [2, 0, 0, 0])
  assert.deepEqual(stats.closed, [1, 0, 0, 0], 'the source generator was closed early')
})

test('take(n) scans more partitions only while it needs more records', async () => {
  const { rdd, stats } = fourPartitions()
  assert.deepEqual(await rdd.take(12), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  // Round 1 found 10 in one partition; 1.5 × 12 × 1 / 10 rounds up to 2, minus the 1 scanned.
  assert.deepEqual(partitionsPerJob(stats), [[0], [1]])
  assert.deepEqual(stats.chunksPulled, [5, 1, 0, 0])
})

test('after empty partitions take scans four times as many as before', async () => {
  const empty: number[][] = []
  const { rdd, stats } = countingSource([empty, empty, empty, empty, empty, [[50]], [[60]], [[70]]])
  assert.deepEqual(await rdd.take(1), [50])
  assert.deepEqual(partitionsPerJob(stats), [[0], [1, 2, 3, 4], [5, 6, 7]])
  assert.deepEqual(await rdd.filter((n) => n > 100).take(5), [], 'an RDD with fewer records returns them all')
})

test('take works through narrow operations, stopping the source mid-partition', async () => {
  const { rdd, stats } = fourPartitions()
  const odd = rdd.filter((n) => n % 2 === 1).map((n) => `#${n}`)
  assert.deepEqual(await odd.take(2), ['#1', '#3'])
  assert.deepEqual(stats.chunksPulled, [2, 0, 0, 0])
})

test('isEmpty reads a single chunk of a non-empty RDD', async () => {
  const { rdd, stats } = fourPartitions()
  assert.equal(await rdd.isEmpty(), false)
  assert.deepEqual(stats.chunksPulled, [1, 0, 0, 0])
})

test('take(0) runs nothing; a bad n is rejected', async () => {
  const { rdd, stats } = fourPartitions()
  assert.deepEqual(await rdd.take(0), [])
  assert.equal(stats.computed.length, 0)
  for (const [n, shown] of [
    [-1, '-1'],
    [1.5, '1.5'],
    ['3', '"3"'],
  ] as const) {
    await assert.rejects(rdd.take(n as number), {
      code: ErrorCodes.INVALID_ARGUMENT,
      message: `take(n) needs a non-negative integer, got ${shown}`,
    })
  }
})

test("partitionsToTry follows Spark's estimate", () => {
  assert.equal(partitionsToTry(10, 0, 0), 1)
  assert.equal(partitionsToTry(10, 0, 1), 4)
  assert.equal(partitionsToTry(10, 0, 5), 20)
  assert.equal(partitionsToTry(100, 10, 1), 4, 'capped at four times what was scanned')
  assert.equal(partitionsToTry(12, 10, 1), 1)
  assert.equal(partitionsToTry(30, 10, 2), 7)
})
