import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes } from '../../src/core/errors.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import type { Rdd } from '../../src/rdd/rdd.ts'
import { fromSource } from '../../src/rdd/source-rdd.ts'
import type { TaskContext } from '../../src/rdd/task-context.ts'
import { defaultTaskRunner } from '../../src/rdd/task-runner.ts'
import { chunksOfRange, countingSource, quietRunner, sortedPairs } from './support.ts'

test('a chain of narrow operations gives exact results in partition then record order', async () => {
  const lines = parallelize(['to be or', 'not to be', '', 'that is'], 3, { runner: quietRunner() })
  const words = lines
    .flatMap((line) => line.split(' '))
    .filter((word) => word.length > 0)
    .map((word) => word.toUpperCase())
  assert.deepEqual(await words.collect(), ['TO', 'BE', 'OR', 'NOT', 'TO', 'BE', 'THAT', 'IS'])
  assert.equal(await words.count(), 8)
  assert.equal(words.numPartitions, 3)
})

test('map passes only the record to its function, never an index', async () => {
  const parsed = parallelize(['10', '10', '10'], 1).map(Number.parseInt)
  assert.deepEqual(await parsed.collect(), [10, 10, 10])
})

test('filter with a type guard narrows the element type', async () => {
  const mixed = parallelize<string | number>([1, 'a', 2, 'b'], 2)
  const numbers: Rdd<number> = mixed.filter((value): value is number => typeof value === 'number')
  assert.deepEqual(await numbers.collect(), [1, 2])
})

test('building operations runs nothing until an action', async () => {
  let mapped = 0
  const { rdd, stats } = countingSource([chunksOfRange(0, 4, 2), chunksOfRange(4, 8, 2)])
  const pairs = rdd
    .map((n) => {
      mapped++
      return [n % 2, n] as [number, number]
    })
    .filter(() => true)
    .union(rdd.map((n): [number, number] => [n, n]))
    .reduceByKey((a, b) => a + b)
    .mapValues((sum) => sum * 10)
  assert.equal(mapped, 0)
  assert.equal(stats.computed.length, 0)

  // Key 0: evens 0+2+4+6 plus 0 from the second side; key 1: odds 1+3+5+7 plus 1; keys 2..7: themselves.
  assert.deepEqual(sortedPairs(await pairs.collect()), [
    [0, 120],
    [1, 170],
    [2, 20],
    [3, 30],
    [4, 40],
    [5, 50],
    [6, 60],
    [7, 70],
  ])
  assert.equal(mapped, 8)
  assert.equal(stats.computed.length, 4) // the map stage read each source partition once per side
})

test('derived RDDs get fresh ids and inherit the runner of their parent', () => {
  const runner = quietRunner()
  const root = parallelize([1, 2], 1, { runner })
  const mapped = root.map((n) => n + 1)
  const shuffled = mapped.map((n): [number, number] => [n, n]).groupByKey()
  assert.ok(mapped.id > root.id && shuffled.id > mapped.id)
  assert.equal(mapped.runner, runner)
  assert.equal(shuffled.runner, runner)
  assert.equal(parallelize([1]).runner, defaultTaskRunner)
  assert.equal(String(root), `ParallelCollectionRdd[${root.id}]`)
  assert.equal(String(mapped), `MapPartitionsRdd[${mapped.id}]`)
  assert.equal(String(shuffled), `ShuffledRdd[${shuffled.id}]`)
  assert.deepEqual(mapped.dependencies, [root])
})

test('the task context of a job names the root node and partition, seen by every layer', async () => {
  const seen: TaskContext[] = []
  const { rdd } = countingSource([[[1]], [[2]]])
  const mapped = rdd.mapPartitions(async function* (records, ctx) {
    seen.push(ctx)
    for await (const record of records) yield record
  })
  const root = mapped.map((n) => n * 2)
  assert.deepEqual(await root.collect(), [2, 4])
  assert.deepEqual(
    seen
      .map(({ nodeId, partition, attempt }) => ({ nodeId, partition, attempt }))
      .sort((a, b) => a.partition - b.partition),
    [
      { nodeId: root.id, partition: 0, attempt: 1 },
      { nodeId: root.id, partition: 1, attempt: 1 },
    ],
  )
})

test('first, isEmpty and reduce', async () => {
  const runner = quietRunner()
  const numbers = parallelize([5, 3, 8, 1], 3, { runner })
  assert.equal(await numbers.first(), 5)
  assert.equal(await numbers.isEmpty(), false)
  assert.equal(await numbers.reduce((a, b) => a + b), 17)
  assert.equal(await numbers.reduce((a, b) => Math.max(a, b)), 8)

  const none = numbers.filter(() => false)
  assert.equal(await none.isEmpty(), true)
  assert.equal(await none.count(), 0)
  assert.deepEqual(await none.collect(), [])
  await assert.rejects(none.first(), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: `first() needs at least one record, but ${none} is empty`,
  })
  await assert.rejects(
    none.reduce((a, b) => a + b),
    {
      code: ErrorCodes.INVALID_ARGUMENT,
      message: `reduce() needs at least one record, but ${none} is empty`,
    },
  )
  assert.equal(await parallelize([undefined, 1]).first(), undefined, 'an undefined record is still a record')
})

test('foreach awaits what the function returns; foreachPartition sees records and context', async () => {
  const runner = quietRunner({ concurrency: 1 })
  const seen: number[] = []
  // Each call finishes a timer later: foreach resolves only after every one of them…
  await parallelize([1, 2, 3, 4], 2, { runner }).foreach(async (n) => {
    await sleep(5)
    seen.push(n)
  })
  assert.deepEqual(seen, [1, 2, 3, 4])
  // …one at a time within a partition (the next record waits for the previous call)…
  const events: string[] = []
  await parallelize([1, 2], 1, { runner }).foreach(async (n) => {
    events.push(`start ${n}`)
    await sleep(5)
    events.push(`end ${n}`)
  })
  assert.deepEqual(events, ['start 1', 'end 1', 'start 2', 'end 2'])
  // …and a call that rejects, late, fails it.
  await assert.rejects(
    parallelize([1, 2, 3], 1, { runner }).foreach(async (n) => {
      await sleep(5)
      if (n === 3) throw new Error('rejected late')
    }),
    /rejected late/,
  )

  const partitions: [number, number[]][] = []
  await parallelize([1, 2, 3, 4, 5], 2, { runner }).foreachPartition(async (records, ctx) => {
    const values: number[] = []
    for await (const record of records) values.push(record)
    partitions.push([ctx.partition, values])
  })
  assert.deepEqual(partitions, [
    [0, [1, 2]],
    [1, [3, 4, 5]],
  ])
})

test('countByValue compares by value: strings, numbers, bigints (1 and 1n differ) and objects', async () => {
  const values = parallelize<unknown>(
    ['a', 1, 1n, 'a', 1, true, null, { x: 1, y: [2n] }, { y: [2n], x: 1 }],
    3,
  )
  const counts = await values.countByValue()
  assert.deepEqual(
    [...counts],
    [
      ['a', 2],
      [1, 2],
      [1n, 1],
      [true, 1],
      [null, 1],
      [{ x: 1, y: [2n] }, 2],
    ],
  )

  const byId = await parallelize([
    { id: 1, v: 'a' },
    { id: 1, v: 'b' },
    { id: 2, v: 'c' },
  ]).countByValue({
    keySerializer: (value) => String(value.id),
  })
  assert.deepEqual(
    [...byId],
    [
      [{ id: 1, v: 'a' }, 2],
      [{ id: 2, v: 'c' }, 1],
    ],
  )
})

test('a failing narrow function fails the action with TASK_FAILED naming the partition', async () => {
  const runner = quietRunner({ maxAttempts: 2 })
  const broken = parallelize([1, 2, 3], 3, { runner }).map((n) => {
    if (n === 3) throw new RangeError('three is not allowed')
    return n
  })
  await assert.rejects(broken.collect(), {
    code: ErrorCodes.TASK_FAILED,
    message: `${broken} partition 2 failed after 2 attempts: three is not allowed`,
  })
})

test('operations reject a missing function at once, naming it', () => {
  const numbers = parallelize([1])
  const notAFunction = undefined as unknown as (n: number) => number
  assert.throws(() => numbers.map(notAFunction), {
    code: ErrorCodes.INVALID_OPTION,
    message: "option 'fn' must be a function, got undefined",
  })
  assert.throws(() => numbers.filter(notAFunction as unknown as (n: number) => boolean), {
    message: "option 'predicate' must be a function, got undefined",
  })
  assert.throws(() => fromSource(1, notAFunction as never), {
    message: "option 'source' must be a function, got undefined",
  })
})

test('mapChunks transforms whole chunks synchronously, with the context; empty outputs are dropped', async () => {
  const { rdd } = countingSource([
    [[1, 2, 3], [], [4]],
    [[5, 6], [7]],
  ])
  const calls: [number, number[]][] = []
  const sums = rdd.mapChunks((chunk, ctx) => {
    calls.push([ctx.partition, [...chunk]])
    return chunk[0] === 4 ? [] : [chunk.reduce((a, b) => a + b, 0)]
  })
  assert.deepEqual(await sums.collect(), [6, 11, 7])
  assert.deepEqual(
    calls.sort((a, b) => a[0] - b[0]),
    [
      [0, [1, 2, 3]],
      [0, [4]],
      [1, [5, 6]],
      [1, [7]],
    ],
    'one call per non-empty chunk',
  )
  // It fuses with the element operations around it like any narrow step.
  assert.deepEqual(await sums.map((n) => n * 10).collect(), [60, 110, 70])
})

test('mapChunks fails the task naming the problem when the function returns no array', async () => {
  const rdd = parallelize([1, 2], 1, { runner: quietRunner({ maxAttempts: 1 }) }).mapChunks(
    () => 42 as unknown as number[],
  )
  await assert.rejects(rdd.collect(), (error: Error & { cause?: Error & { code?: string } }) => {
    assert.equal(error.cause?.code, ErrorCodes.INVALID_ARGUMENT)
    assert.equal(
      error.cause?.message,
      'the function given to mapChunks() must return an array of records, got 42',
    )
    return true
  })
})

test('foreachChunk sees every non-empty chunk with its context and awaits a returned promise', async () => {
  const { rdd } = countingSource(
    [
      [[1, 2], [], [3]],
      [[4], [5, 6]],
    ],
    quietRunner({ concurrency: 1 }),
  )
  const order: string[] = []
  await rdd.foreachChunk(async (chunk, ctx) => {
    order.push(`start p${ctx.partition} [${chunk}]`)
    await new Promise((resolve) => setImmediate(resolve))
    order.push(`end p${ctx.partition} [${chunk}]`)
  })
  assert.deepEqual(order, [
    'start p0 [1,2]',
    'end p0 [1,2]',
    'start p0 [3]',
    'end p0 [3]',
    'start p1 [4]',
    'end p1 [4]',
    'start p1 [5,6]',
    'end p1 [5,6]',
  ])
})
