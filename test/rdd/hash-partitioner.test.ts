import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashKey, partitionOfKey } from '../../src/rdd/hash-partitioner.ts'

test('hashes depend only on the key value, and equal keys hash equally', () => {
  // Pinned values: a change here moves keys between partitions for every job (and would break
  // anything that relies on a key's partition staying put across versions).
  assert.deepEqual(
    ['word', 42, 2.5, 7n, true, null, undefined].map((key) => hashKey(key, undefined)),
    [2807923918, 2131713630, 960303979, 3434577660, 1013904242, 1359893119, 2600822924],
  )
  assert.equal(hashKey({ a: 1 }, '{"a":1}'), 710319293)
  assert.equal(hashKey(0, undefined), hashKey(-0, undefined))
  assert.equal(
    hashKey({ a: 1 }, '{"a":1}'),
    hashKey({ a: 2 }, '{"a":1}'),
    'object keys hash by serialized form',
  )
  assert.notEqual(hashKey(1, undefined), hashKey(1n, undefined))
  assert.notEqual(hashKey(1, undefined), hashKey('1', undefined))
})

test('partitionOfKey spreads keys over every partition and stays in range', () => {
  const counts = [0, 0, 0, 0]
  for (let i = 0; i < 400; i++) counts[partitionOfKey(`key-${i}`, 4)]!++
  for (const count of counts) assert.ok(count > 60, `uneven spread ${counts}`)
  assert.equal(partitionOfKey({ b: 1, a: 2 }, 7), partitionOfKey({ a: 2, b: 1 }, 7))
  assert.equal(partitionOfKey(12345, 1), 0)
})
