import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Ring } from '../../src/observe/ring.ts'

test('a ring keeps the newest items up to its capacity and hands back the one it drops', () => {
  const ring = new Ring<number>(3)
  assert.equal(ring.push(1), undefined)
  assert.equal(ring.push(2), undefined)
  assert.equal(ring.push(3), undefined)
  assert.deepEqual(ring.toArray(), [1, 2, 3])
  assert.equal(ring.push(4), 1)
  assert.equal(ring.push(5), 2)
  assert.equal(ring.size, 3)
  assert.deepEqual(ring.toArray(), [3, 4, 5])
  assert.equal(ring.newest(), 5)
  assert.equal(ring.newest(2), 3)
  assert.equal(ring.newest(3), undefined)
  assert.equal(ring.newest(-1), undefined)
})

test('pages run newest first and stop at the oldest item', () => {
  const ring = new Ring<number>(5)
  for (let i = 1; i <= 8; i++) ring.push(i)
  assert.deepEqual(ring.page(0, 2), [8, 7])
  assert.deepEqual(ring.page(2, 2), [6, 5])
  assert.deepEqual(ring.page(4, 2), [4])
  assert.deepEqual(ring.page(5, 2), [])
  assert.equal(
    ring.find((n) => n % 3 === 0),
    6,
  )
  assert.equal(
    ring.find((n) => n > 100),
    undefined,
  )
})

test('a ring refuses a capacity that is not a positive integer', () => {
  for (const capacity of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new Ring(capacity), /positive integer capacity/)
  }
})
