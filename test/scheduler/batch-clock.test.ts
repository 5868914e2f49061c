import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BatchClock, waitUntil } from '../../src/scheduler/batch-clock.ts'

test('batch times are start + k * interval, whatever happens between calls', () => {
  const clock = new BatchClock(1_000_000, 200)
  assert.deepEqual([clock.next(), clock.next(), clock.next()], [1_000_000, 1_000_200, 1_000_400])
})

test('waitUntil returns true for a past time and false once aborted', async () => {
  const controller = new AbortController()
  assert.equal(await waitUntil(Date.now() - 5, controller.signal), true)
  const waiting = waitUntil(Date.now() + 60_000, controller.signal)
  controller.abort()
  assert.equal(await waiting, false)
  assert.equal(await waitUntil(Date.now() + 60_000, controller.signal), false)
})
