import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { BucketShuffleRdd } from '../../src/rdd/bucket-shuffle.ts'
import type { Chunks } from '../../src/rdd/chunks.ts'
import { countingSource, quietRunner } from './support.ts'

/** A map side that buckets words by length, as a worker would: one bucket per reduce partition. */
async function byLength(chunks: Chunks<string>): Promise<string[][]> {
  const buckets: string[][] = [[], []]
  for await (const chunk of chunks) for (const word of chunk) buckets[word.length % 2]!.push(word)
  return buckets
}

test('reduce partition i gets bucket i of every map output, in map-partition order', async () => {
  const { rdd, stats } = countingSource<string>([[['aa', 'b']], [['c'], ['dd', 'eee']]])
  const shuffled = new BucketShuffleRdd({ parent: rdd, numPartitions: 2, writeBuckets: byLength })
  assert.equal(shuffled.numPartitions, 2)
  assert.deepEqual(await shuffled.collect(), ['aa', 'dd', 'b', 'c', 'eee'])
  assert.equal(await shuffled.count(), 5)
  assert.equal(stats.computed.length, 2, 'the map stage ran once for both actions')
})

test('a failed map stage is forgotten: the next action runs it again', async () => {
  let failures = 1
  const { rdd, stats } = countingSource<string>([[['x']]], quietRunner({ maxAttempts: 1 }))
  const shuffled = new BucketShuffleRdd({
    parent: rdd,
    numPartitions: 2,
    writeBuckets: async (chunks) => {
      const buckets = await byLength(chunks)
      if (failures-- > 0) throw new Error('worker died')
      return buckets
    },
  })
  await assert.rejects(shuffled.collect(), /worker died/)
  assert.deepEqual(await shuffled.collect(), ['x'])
  assert.equal(stats.computed.length, 2)
})

test('a map side answering the wrong number of buckets, and bad partition counts, are errors', async () => {
  const { rdd } = countingSource<string>([[['x']]], quietRunner({ maxAttempts: 1 }))
  const wrong = new BucketShuffleRdd({ parent: rdd, numPartitions: 3, writeBuckets: byLength })
  await assert.rejects(wrong.collect(), /returned 2 buckets for 3 partitions/)
  assert.throws(
    () => new BucketShuffleRdd({ parent: rdd, numPartitions: 0, writeBuckets: byLength }),
    (error: { code?: string }) => error.code === ErrorCodes.INVALID_OPTION,
  )
})
