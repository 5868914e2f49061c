import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { arrayFromAsync, quietRunner } from './support.ts'

test('parallelize splits the data into contiguous slices, chunked by chunkSize', async () => {
  const runner = quietRunner()
  const rdd = parallelize([1, 2, 3, 4, 5, 6, 7], 3, { runner, chunkSize: 2 })
  const partitions = await runner.runJob(rdd, [0, 1, 2], (chunks) => arrayFromAsync(chunks))
  assert.deepEqual(partitions, [[[1, 2]], [[3, 4]], [[5, 6], [7]]])
  assert.deepEqual(await parallelize([1, 2], 4).collect(), [1, 2], 'more partitions than records')
  assert.equal(parallelize([]).numPartitions, 1)
})

test('parallelize copies its input, so later changes cannot alter a recomputation', async () => {
  const data = [1, 2, 3]
  const rdd = parallelize(data, 2)
  data.push(4)
  data[0] = 100
  assert.deepEqual(await rdd.collect(), [1, 2, 3])
})

test('parallelize rejects invalid options at construction', () => {
  assert.throws(() => parallelize([1], 0), {
    code: ErrorCodes.INVALID_OPTION,
    message: "option 'numPartitions' must be at least 1, got 0",
  })
  assert.throws(() => parallelize([1], 1, { chunkSize: -5 }), {
    message: "parallelize: option 'chunkSize' must be at least 1, got -5",
  })
  assert.throws(() => parallelize([1], 1, { runner: {} as never }), {
    code: ErrorCodes.INVALID_OPTION,
    message: "parallelize: option 'runner' must be a TaskRunner, got an object",
  })
})
