import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { TaskRunner } from '../../src/rdd/task-runner.ts'
import { collectPartitions, MemoryRdd, memoryRddOf } from '../../src/stream/memory-rdd.ts'

const runner = () => new TaskRunner({ concurrency: 1, retryBackoffMs: 0, logger: silentLogger })

test('a MemoryRdd loads once for concurrent actions, then serves its partitions from memory', async () => {
  let loads = 0
  let data: number[][] = []
  const rdd = new MemoryRdd<number>(
    2,
    {
      load: async () => {
        loads++
        data = [
          [1, 2],
          [3, 4, 5],
        ]
      },
      chunks: (p) => [data[p]!],
    },
    runner(),
  )
  assert.equal(rdd.loaded, false)
  const [all, count] = await Promise.all([rdd.collect(), rdd.count()])
  assert.deepEqual(all, [1, 2, 3, 4, 5])
  assert.equal(count, 5)
  assert.equal(await rdd.map((x) => x * 10).reduce((a, b) => a + b), 150)
  assert.equal(loads, 1)
  assert.equal(rdd.loaded, true)
})

test('a failed load is forgotten: the next action loads again', async () => {
  let attempts = 0
  const rdd = new MemoryRdd<string>(
    1,
    {
      load: async () => {
        if (++attempts === 1) throw new Error('source down')
      },
      chunks: () => [['ok']],
    },
    runner(),
  )
  await assert.rejects(rdd.collect(), /source down/)
  assert.deepEqual(await rdd.collect(), ['ok'])
  assert.equal(attempts, 2)
})

// A deadlock never settles: the short limit turns one into a failure naming this test.
test('loading runs its own job before the action takes a task slot (no deadlock with one slot)', {
  timeout: 10_000,
}, async () => {
  const shared = runner()
  const source = parallelize([1, 2, 3, 4], 2, { runner: shared }).map((x) => x + 1)
  let data: number[][] = []
  const rdd = new MemoryRdd<number>(
    2,
    {
      load: async (signal) => {
        data = await collectPartitions(source, signal)
      },
      chunks: (p) => [data[p]!],
    },
    shared,
  )
  assert.deepEqual(await rdd.union(memoryRddOf([[9]], shared)).collect(), [2, 3, 4, 5, 9])
})
