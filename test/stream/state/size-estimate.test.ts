import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ENTRY_OVERHEAD, estimateBytes } from '../../../src/stream/state/size-estimate.ts'

test('the size model counts slots, headers and characters', () => {
  assert.equal(estimateBytes(7), 0, 'a small integer lives in its slot')
  assert.equal(estimateBytes(1.5), 16, 'other numbers are boxed')
  assert.equal(estimateBytes('k123456'), 24)
  assert.equal(estimateBytes(null), 0)
  assert.equal(estimateBytes([1, 2]), 24 + 24 + 16)
  assert.equal(estimateBytes({ a: 1, b: 'xy' }), 24 + 8 + 8 + 24)
  assert.ok(estimateBytes(new Map([['a', 1]])) > estimateBytes(new Map()))
  // Deeply nested values stop being walked instead of recursing without end.
  let deep: unknown = 1
  for (let i = 0; i < 1000; i++) deep = { deep }
  assert.ok(Number.isFinite(estimateBytes(deep)))
  // A million short string keys with number states measured 141 bytes per entry on Node 24.
  assert.equal(ENTRY_OVERHEAD + estimateBytes('k123456') + estimateBytes(2), 136)
})
