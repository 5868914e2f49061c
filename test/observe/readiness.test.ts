import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readiness } from '../../src/observe/readiness.ts'

const base = { status: 'active' as const, startedAt: 1_000, batchInterval: 100, intervals: 3 }

test('ready while a batch finished within the allowed intervals', () => {
  assert.deepEqual(readiness({ ...base, now: 1_500, lastCompletedAt: 1_250 }), {
    ready: true,
    reason: 'the last batch finished 250 ms ago',
  })
  // Exactly at the limit is still ready; one ms past it is not.
  assert.equal(readiness({ ...base, now: 1_550, lastCompletedAt: 1_250 }).ready, true)
  assert.deepEqual(readiness({ ...base, now: 1_551, lastCompletedAt: 1_250 }), {
    ready: false,
    reason:
      'no batch finished for 301 ms since the last batch finished (more than 3 batch intervals of 100 ms)',
  })
})

test('before the first batch, the allowance counts from the start', () => {
  assert.equal(readiness({ ...base, now: 1_300, lastCompletedAt: null }).ready, true)
  const stalled = readiness({ ...base, now: 1_301, lastCompletedAt: null })
  assert.equal(stalled.ready, false)
  assert.match(stalled.reason, /no batch finished for 301 ms since the stream started/)
})

test('a stream that is not active is never ready', () => {
  assert.deepEqual(readiness({ ...base, status: 'failed', now: 1_001, lastCompletedAt: 1_000 }), {
    ready: false,
    reason: 'the stream failed',
  })
  for (const status of ['starting', 'stopped'] as const) {
    assert.deepEqual(readiness({ ...base, status, now: 1_001, lastCompletedAt: 1_000 }), {
      ready: false,
      reason: `the stream is ${status}`,
    })
  }
})
