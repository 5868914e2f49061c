import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'

test('create accepts bigint, safe integers and decimal strings; count and JSON use exact offsets', () => {
  const big = 2n ** 60n
  const range = OffsetRange.create('words', 3, big, `${big + 5n}`)
  assert.equal(range.fromOffset, big)
  assert.equal(range.untilOffset, big + 5n)
  assert.equal(range.count, 5)
  assert.deepEqual(range.toJSON(), {
    topic: 'words',
    partition: 3,
    fromOffset: '1152921504606846976',
    untilOffset: '1152921504606846981',
  })
  assert.equal(
    JSON.stringify(range),
    '{"topic":"words","partition":3,"fromOffset":"1152921504606846976","untilOffset":"1152921504606846981"}',
  )
  assert.ok(OffsetRange.fromJSON(range.toJSON()).equals(range))
  assert.equal(String(OffsetRange.create('t', 0, 100, 200)), 't-0 [100, 200)')
  assert.ok(Object.isFrozen(range))
})

test('from > until, negative offsets and bad partitions fail naming the range', () => {
  const invalid = (fn: () => unknown, message: string) =>
    assert.throws(
      fn,
      (error: SluiceError) => error.code === ErrorCodes.INVALID_ARGUMENT && error.message === message,
    )
  invalid(
    () => OffsetRange.create('t', 0, 10n, 5n),
    'offset range t-0 [10, 5): fromOffset must not exceed untilOffset',
  )
  invalid(
    () => OffsetRange.create('t', 1, -1n, 5n),
    'offset range t-1: fromOffset must not be negative, got -1',
  )
  invalid(
    () => OffsetRange.create('t', -2, 0n, 5n),
    'offset range t--2: partition must be a non-negative integer, got -2',
  )
  invalid(() => OffsetRange.create('', 0, 0n, 5n), 'offset range -0: topic must be a non-empty string')
  invalid(
    () => OffsetRange.create('t', 0, 1.5, 5n),
    'offset range t-0: fromOffset must be an integer offset, got "1.5"',
  )
})
