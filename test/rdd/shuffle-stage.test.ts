import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import type { Rdd } from '../../src/rdd/rdd.ts'
import type { TaskContext } from '../../src/rdd/task-context.ts'
import { arrayFromAsync, countingSource, quietRunner, sortedPairs } from './support.ts'

const wordChunks = [[['a', 'b']], [['a'], ['c', 'a']]]

function wordCounts(rdd: Rdd<string>): Rdd<[string, number]> {
  return rdd.map((word): [string, number] => [word, 1]).reduceByKey((a, b) => a + b, { numPartitions: 3 })
}

const expectedCounts = [
  ['a', 3],
  ['b', 1],
  ['c', 1],
]

test('the map stage runs once: later and concurrent actions reuse its output', async () => {
  const { rdd, stats } = countingSource<string>(wordChunks)
  const counts = wordCounts(rdd)
  const [collected, counted] = await Promise.all([counts.collect(), counts.count()])
  assert.deepEqual(sortedPairs(collected), expectedCounts)
  assert.equal(counted, 3)
  assert.equal(stats.computed.length, 2, 'one map task per parent partition, shared by both actions')

  assert.deepEqual(sortedPairs(await counts.collect()), expectedCounts)
  assert.deepEqual(await counts.take(1), [collected[0]])
  assert.equal(stats.computed.length, 2, 'no later action reads the parent again')
})

test('a retried reduce task re-reads the stored map output, not the parent', async () => {
  const { rdd, stats } = countingSource<string>(wordChunks)
  const failedOnce = new Set<number>()
  const flaky = wordCounts(rdd).mapPartitions(async function* (records, ctx: TaskContext) {
    for await (const record of records) {
      if (!failedOnce.has(ctx.partition)) {
        failedOnce.add(ctx.partition)
        throw new Error('reduce task crashed')
      }
      yield record
    }
  })
  assert.deepEqual(sortedPairs(await flaky.collect()), expectedCounts)
  assert.equal(stats.computed.length, 2)
})

test('a failed map stage is not cached: the next action runs it again', async () => {
  let failing = true
  const { rdd, stats } = countingSource<string>(wordChunks, quietRunner({ maxAttempts: 2 }), (partition) => {
    if (failing && partition === 1) throw new Error('source unavailable')
  })
  const counts = wordCounts(rdd)
  await assert.rejects(counts.collect(), {
    code: ErrorCodes.TASK_FAILED,
    message: /partition 1 failed after 2 attempts: source unavailable/,
  })
  const computedByFailedRun = stats.computed.length
  assert.equal(computedByFailedRun, 3, 'partition 0 once, partition 1 twice')

  failing = false
  assert.deepEqual(sortedPairs(await counts.collect()), expectedCounts)
  assert.equal(stats.computed.length, computedByFailedRun + 2, 'the whole stage ran again')
})

// A deadlock never settles: the short limit turns one into a failure naming this test.
test('shuffles work on a runner with a single slot (stages run before the job takes slots)', {
  timeout: 10_000,
}, async () => {
  const { rdd } = countingSource<string>(wordChunks, quietRunner({ concurrency: 1 }))
  const twice = wordCounts(rdd)
    .map(([word, count]): [number, string] => [count, word])
    .groupByKey({ numPartitions: 2 })
  assert.deepEqual(sortedPairs(await twice.collect()), [
    [1, ['b', 'c']],
    [3, ['a']],
  ])
})

test('computing a reduce partition directly runs the map stage on first use', async () => {
  const { rdd, stats } = countingSource<string>(wordChunks)
  const counts = wordCounts(rdd)
  const ctx: TaskContext = {
    jobId: 0,
    nodeId: counts.id,
    partition: 0,
    attempt: 1,
    signal: new AbortController().signal,
  }
  const all = []
  for (let partition = 0; partition < counts.numPartitions; partition++) {
    all.push(...(await arrayFromAsync(counts.computeChunks(partition, { ...ctx, partition }))).flat())
  }
  assert.deepEqual(sortedPairs(all), expectedCounts)
  assert.equal(stats.computed.length, 2)
})
