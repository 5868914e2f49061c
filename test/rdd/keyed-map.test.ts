import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KeyedMap } from '../../src/rdd/keyed-map.ts'

test('a string key and an object key with the same serialized text stay apart, in first-seen order', () => {
  const map = new KeyedMap<unknown, number>()
  map.add('{"a":1}', undefined, 1)
  map.add({ a: 1 }, '{"a":1}', 2)
  map.add(1, undefined, 3)
  map.add(1n, undefined, 4)
  assert.equal(map.size, 4)
  assert.equal(map.get('{"a":1}', undefined)?.value, 1)
  assert.equal(map.get({ a: 1 }, '{"a":1}')?.value, 2)
  assert.equal(map.get(1, undefined)?.value, 3)
  assert.equal(map.get(1n, undefined)?.value, 4)
  assert.equal(map.get('1', undefined), undefined)
  assert.deepEqual(
    map.entries().map((entry) => entry.value),
    [1, 2, 3, 4],
  )
})
