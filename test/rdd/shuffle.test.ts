import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'
import type { Chunks } from '../../src/rdd/chunks.ts'
import { partitionOfKey } from '../../src/rdd/hash-partitioner.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import type { Rdd } from '../../src/rdd/rdd.ts'
import { arrayFromAsync, quietRunner, sortedPairs } from './support.ts'

const runner = quietRunner()

/** The records of every partition of `rdd`, partition by partition. */
async function byPartition<T>(rdd: Rdd<T>): Promise<T[][]> {
  const partitions = Array.from({ length: rdd.numPartitions }, (_, i) => i)
  return rdd.runner.runJob(rdd, partitions, async (chunks: Chunks<T>) =>
    (await arrayFromAsync(chunks)).flat(),
  )
}

test('reduceByKey counts words exactly', async () => {
  const words = parallelize(['a b a', 'c a b', 'd'], 2, { runner })
    .flatMap((line) => line.split(' '))
    .map((word): [string, number] => [word, 1])
  assert.deepEqual(sortedPairs(await words.reduceByKey((a, b) => a + b).collect()), [
    ['a', 3],
    ['b', 2],
    ['c', 1],
    ['d', 1],
  ])
})

test('number, bigint and string keys compare by value and never with each other (1, 1n, "1" differ)', async () => {
  const pairs = parallelize<[unknown, number]>(
    [
      [1, 1],
      [1n, 10],
      ['1', 100],
      [1, 2],
      [-0, 1000],
      [0, 2000],
      [2n ** 70n, 5],
      [2n ** 70n, 6],
      [true, 7],
      [null, 8],
      [undefined, 9],
    ],
    3,
    { runner },
  )
  const sums = await pairs.reduceByKey((a, b) => a + b, { numPartitions: 4 }).collect()
  const asMap = new Map(sums)
  assert.equal(sums.length, 8)
  assert.equal(asMap.get(1), 3)
  assert.equal(asMap.get(1n), 10)
  assert.equal(asMap.get('1'), 100)
  assert.equal(asMap.get(0), 3000, '-0 and 0 are the same key')
  assert.equal(asMap.get(2n ** 70n), 11)
  assert.equal(asMap.get(true), 7)
  assert.equal(asMap.get(null), 8)
  assert.equal(asMap.get(undefined), 9)
})

test('groupByKey and join match number and bigint keys by value, 1 and 1n apart', async () => {
  const left = parallelize<[number | bigint, string]>(
    [
      [1, 'one'],
      [1n, 'big one'],
      [2 ** 53, 'max'],
      [1, 'uno'],
    ],
    2,
    { runner },
  )
  const right = parallelize<[number | bigint, string]>(
    [
      [1n, 'B'],
      [9007199254740992, 'M'],
    ],
    1,
    { runner },
  )
  assert.deepEqual(sortedPairs(await left.groupByKey().collect()), [
    [1, ['one', 'uno']],
    [9007199254740992, ['max']],
    [1n, ['big one']],
  ])
  assert.deepEqual(sortedPairs(await left.join(right).collect()), [
    [9007199254740992, ['max', 'M']],
    [1n, ['big one', 'B']],
  ])
})

test('object keys group by their deterministic JSON form and keep the first-seen key value', async () => {
  const first = { user: 'ann', tags: ['x', 1n] }
  const pairs = parallelize<[object, number]>(
    [
      [first, 1],
      [{ tags: ['x', 1n], user: 'ann' }, 2], // same fields, other order
      [{ user: 'ann', tags: ['x', '1n'] }, 4], // a string, not a bigint
      [[1, 2], 8],
      [[1, 2], 16],
    ],
    2,
    { runner },
  )
  const sums = await pairs.reduceByKey((a, b) => a + b).collect()
  assert.deepEqual(sortedPairs(sums), [
    [[1, 2], 24],
    [{ user: 'ann', tags: ['x', '1n'] }, 4],
    [{ user: 'ann', tags: ['x', 1n] }, 3],
  ])
  assert.ok(
    sums.some(([key]) => key === first),
    'the output carries the first-seen key object',
  )
})

test('a custom keySerializer decides which object keys are equal', async () => {
  const visits = parallelize<[{ id: number; name: string }, number]>(
    [
      [{ id: 7, name: 'Ann' }, 1],
      [{ id: 7, name: 'ann (renamed)' }, 1],
      [{ id: 8, name: 'Bob' }, 1],
    ],
    2,
    { runner },
  )
  const counts = await visits
    .reduceByKey((a, b) => a + b, { keySerializer: (user) => String(user.id) })
    .collect()
  assert.deepEqual(sortedPairs(counts), [
    [{ id: 7, name: 'Ann' }, 2],
    [{ id: 8, name: 'Bob' }, 1],
  ])
})

test('groupByKey keeps values in partition order then record order', async () => {
  const pairs = parallelize<[string, number]>(
    [
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['a', 4],
      ['b', 5],
    ],
    3,
    { runner },
  )
  assert.deepEqual(sortedPairs(await pairs.groupByKey({ numPartitions: 2 }).collect()), [
    ['a', [1, 3, 4]],
    ['b', [2, 5]],
  ])
})

test('grouped arrays belong to the caller: changing them does not change the next action', async () => {
  const grouped = parallelize<[string, number]>(
    [
      ['a', 1],
      ['a', 2],
    ],
    2,
    { runner },
  ).groupByKey()
  const [[, values]] = (await grouped.collect()) as [[string, number[]]]
  values.push(99)
  assert.deepEqual(await grouped.collect(), [['a', [1, 2]]])
})

test('cogroup, join and leftOuterJoin', async () => {
  const orders = parallelize<[string, number]>(
    [
      ['ann', 10],
      ['bob', 20],
      ['ann', 11],
      ['cid', 30],
    ],
    2,
    { runner },
  )
  const cities = parallelize<[string, string]>(
    [
      ['ann', 'Oslo'],
      ['bob', 'Rome'],
      ['bob', 'Paris'],
      ['dan', 'Lima'],
    ],
    3,
    { runner },
  )
  assert.deepEqual(sortedPairs(await orders.cogroup(cities).collect()), [
    ['ann', [[10, 11], ['Oslo']]],
    ['bob', [[20], ['Rome', 'Paris']]],
    ['cid', [[30], []]],
    ['dan', [[], ['Lima']]],
  ])
  assert.deepEqual(sortedPairs(await orders.join(cities).collect()), [
    ['ann', [10, 'Oslo']],
    ['ann', [11, 'Oslo']],
    ['bob', [20, 'Paris']],
    ['bob', [20, 'Rome']],
  ])
  assert.deepEqual(sortedPairs(await orders.leftOuterJoin(cities).collect()), [
    ['ann', [10, 'Oslo']],
    ['ann', [11, 'Oslo']],
    ['bob', [20, 'Paris']],
    ['bob', [20, 'Rome']],
    ['cid', [30, undefined]],
  ])
  assert.equal(orders.join(cities).numPartitions, 3, 'joins default to the larger partition count')
})

test('a shuffle into another partition count puts each key in exactly one partition, the same every run', async () => {
  const keys = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta', 42, 7n, { k: 1 }]
  const pairs = parallelize<[unknown, number]>(
    keys.map((key, i): [unknown, number] => [key, i]),
    2,
    { runner },
  )
  const shuffled = pairs.reduceByKey((a, b) => a + b, { numPartitions: 5 })
  assert.equal(pairs.numPartitions, 2)
  assert.equal(shuffled.numPartitions, 5)
  const partitions = await byPartition(shuffled)
  const where = new Map<string, number>()
  partitions.forEach((records, partition) => {
    for (const [key] of records) {
      assert.equal(partition, partitionOfKey(key, 5), `key ${String(key)}`)
      where.set(
        JSON.stringify(key, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        partition,
      )
    }
  })
  assert.equal(where.size, keys.length, 'every key appears exactly once')

  // An independent RDD, split differently, sends every key to the same partition.
  const again = parallelize<[unknown, number]>(
    [...keys].reverse().map((key): [unknown, number] => [key, 0]),
    3,
    { runner },
  ).groupByKey({ numPartitions: 5 })
  const againPartitions = await byPartition(again)
  againPartitions.forEach((records, partition) => {
    for (const [key] of records) {
      assert.equal(
        where.get(JSON.stringify(key, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))),
        partition,
      )
    }
  })
  assert.deepEqual(await shuffled.collect(), await shuffled.collect(), 'output order is deterministic')
})

test('shuffle options are checked when the operation is declared', () => {
  const pairs = parallelize<[string, number]>([['a', 1]])
  assert.throws(() => pairs.reduceByKey((a, b) => a + b, { numPartitions: 0 }), {
    code: ErrorCodes.INVALID_OPTION,
    message: "reduceByKey: option 'numPartitions' must be at least 1, got 0",
  })
  assert.throws(() => pairs.groupByKey({ keySerializer: 'json' as never }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `groupByKey: option 'keySerializer' must be a function, got a string ("json")`,
  })
})

test('records that are not [key, value] tuples fail the job without retries', async () => {
  const attempts: number[] = []
  const notPairs = parallelize(['oops'], 1, { runner: quietRunner({ maxAttempts: 3 }) }).mapPartitions(
    (records, ctx) => {
      attempts.push(ctx.attempt)
      return records
    },
  ) as unknown as Rdd<[string, number]>
  const error = await notPairs
    .reduceByKey((a, b) => a + b)
    .collect()
    .catch((e: unknown) => e)
  assert.ok(isSluiceError(error, ErrorCodes.TASK_FAILED))
  assert.ok(isSluiceError(error.cause, ErrorCodes.INVALID_ARGUMENT))
  assert.equal(error.cause.message, 'a key-value operation needs [key, value] tuples, got "oops"')
  assert.deepEqual(attempts, [1])
})

test('keys, values and mapValues', async () => {
  const pairs = parallelize<[string, number]>(
    [
      ['a', 1],
      ['b', 2],
    ],
    2,
    { runner },
  )
  assert.deepEqual(await pairs.keys().collect(), ['a', 'b'])
  assert.deepEqual(await pairs.values().collect(), [1, 2])
  assert.deepEqual(await pairs.mapValues((n) => `#${n}`).collect(), [
    ['a', '#1'],
    ['b', '#2'],
  ])
})
