import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { arrayFromAsync, quietRunner } from './support.ts'

test('union concatenates the partitions of all its inputs, in argument order', async () => {
  const runner = quietRunner()
  const a = parallelize([1, 2, 3], 2, { runner })
  const b = parallelize([10], 1, { runner })
  const c = parallelize([20, 21], 2, { runner })
  const all = a.union(b, c)
  assert.equal(all.numPartitions, 5)
  assert.deepEqual(await all.collect(), [1, 2, 3, 10, 20, 21])
  assert.deepEqual(await runner.runJob(all, [2, 4], (chunks) => arrayFromAsync(chunks)), [[[10]], [[21]]])
  assert.deepEqual(all.dependencies, [a, b, c])
  assert.deepEqual(await a.union(a).collect(), [1, 2, 3, 1, 2, 3], 'a union keeps duplicates')
})

test('union describes a partition through the input it comes from', () => {
  const a = parallelize([1], 1)
  const b = parallelize([2, 3], 2)
  const all = a.union(b)
  assert.equal(all.describePartition(2), `partition 2 (${b} partition 1)`)
  assert.throws(() => all.describePartition(3), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'UnionRdd has no partition 3 (it has 3)',
  })
})
