import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'
import { TokenBucket } from '../../src/scheduler/token-bucket.ts'

test('a full bucket gives its capacity at once, then tokens at the rate', () => {
  const bucket = new TokenBucket(1000, 100, 0)
  for (let i = 0; i < 100; i++) assert.equal(bucket.take(1, 0), 0)
  // One more is a debt of one token: 1 ms at 1000/s.
  assert.equal(bucket.take(1, 0), 1)
  assert.equal(bucket.tokens(0), -1)
  // 50 ms later, 50 tokens came in: 49 to spend.
  assert.equal(bucket.tokens(50), 49)
  assert.equal(bucket.take(49, 50), 0)
  assert.equal(bucket.take(10, 50), 10)
})

test('an idle bucket keeps at most its capacity', () => {
  const bucket = new TokenBucket(10, 5, 0)
  assert.equal(bucket.tokens(60_000), 5)
})

test('the wait is the time until the debt is paid, rounded up to whole ms', () => {
  const bucket = new TokenBucket(3, 1, 0)
  assert.equal(bucket.take(1, 0), 0)
  // Two tokens short at 3/s: 666.7 ms.
  assert.equal(bucket.take(2, 0), 667)
})

test('an unlimited bucket never asks to wait', () => {
  const bucket = new TokenBucket(Number.POSITIVE_INFINITY, 1, 0)
  assert.equal(bucket.take(1_000_000, 0), 0)
})

test('update changes the rate from now on and trims what is kept to the new capacity', () => {
  const bucket = new TokenBucket(100, 100, 0)
  bucket.update(10, 5, 0)
  assert.equal(bucket.rate, 10)
  assert.equal(bucket.tokens(0), 5)
  bucket.take(5, 0)
  assert.equal(bucket.take(1, 0), 100)
})

test('a rate or capacity that is not a positive number is refused', () => {
  for (const [rate, capacity] of [
    [0, 1],
    [-1, 1],
    [Number.NaN, 1],
    [1, 0],
    [1, Number.POSITIVE_INFINITY],
  ] as const) {
    assert.throws(
      () => new TokenBucket(rate, capacity, 0),
      (error: unknown) => isSluiceError(error, ErrorCodes.INVALID_ARGUMENT),
    )
  }
})
