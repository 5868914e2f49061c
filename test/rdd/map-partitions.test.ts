import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Rdd } from '../../src/rdd/rdd.ts'
import { countingSource } from './support.ts'

/** The lengths of the chunks each partition of `rdd` flows as, to observe how records are grouped. */
function chunkLengths<T>(rdd: Rdd<T>): Promise<number[]> {
  return rdd
    .mapPartitionChunks(async function* lengths(chunks) {
      for await (const chunk of chunks) yield [chunk.length]
    })
    .collect()
}

test('mapPartitions gives the function records one by one and collects what it yields', async () => {
  const { rdd } = countingSource([
    [[1, 2], [3]],
    [[10], [20, 30]],
  ])
  const runningSums = rdd.mapPartitions(async function* (records) {
    let sum = 0
    for await (const record of records) {
      sum += record
      yield sum
    }
  })
  assert.deepEqual(await runningSums.collect(), [1, 3, 6, 10, 30, 60])
})

test('mapPartitions accepts a sync iterable result', async () => {
  const { rdd, stats } = countingSource([[[1]], [[2]], [[3]]])
  const labels = rdd.mapPartitions((_records, ctx) => [`p${ctx.partition}`, 'end'])
  assert.deepEqual(await labels.collect(), ['p0', 'end', 'p1', 'end', 'p2', 'end'])
  assert.deepEqual(stats.chunksPulled, [0, 0, 0], 'input that is never read is never pulled')
})

test('per-record output is regrouped along the input chunks; read-all functions emit whole chunks', async () => {
  const { rdd } = countingSource([[[1, 2], [3, 4], [5]]])
  const doubled = rdd.mapPartitions(async function* (records) {
    for await (const record of records) yield record * 2
  })
  assert.deepEqual(await doubled.collect(), [2, 4, 6, 8, 10])
  assert.deepEqual(await chunkLengths(doubled), [2, 2, 1])

  const sorted = rdd.mapPartitions(async function* (records) {
    const all: number[] = []
    for await (const record of records) all.push(record)
    yield* all.sort((a, b) => b - a)
  })
  assert.deepEqual(await sorted.collect(), [5, 4, 3, 2, 1])
  assert.deepEqual(await chunkLengths(sorted), [5])
})

test('take through mapPartitions stops the source after the chunk it needed', async () => {
  const { rdd, stats } = countingSource([
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
  ])
  const plusOne = rdd.mapPartitions(async function* (records) {
    for await (const record of records) yield record + 1
  })
  assert.deepEqual(await plusOne.take(2), [2, 3])
  assert.deepEqual(stats.chunksPulled, [1])
  assert.deepEqual(stats.closed, [1])
})
