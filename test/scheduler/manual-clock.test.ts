import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { ManualClock } from '../../src/scheduler/manual-clock.ts'

test('a ManualClock wakes waiters exactly when it reaches their time, and never moves back', async () => {
  const clock = new ManualClock(1_000)
  const never = new AbortController()
  const woken: number[] = []
  const at = (time: number) =>
    clock.waitUntil(time, never.signal).then((reached) => reached && woken.push(time))
  const waits = [at(1_500), at(1_200), at(2_000)]
  assert.equal(clock.nextWakeTime, 1_200)
  assert.equal(await clock.waitUntil(1_000, never.signal), true, 'a time already reached resolves at once')
  clock.advance(199)
  await Promise.resolve()
  assert.deepEqual(woken, [])
  clock.advance(1)
  clock.setTime(1_700)
  await Promise.all(waits.slice(0, 2))
  assert.deepEqual(woken, [1_200, 1_500])
  assert.equal(clock.nextWakeTime, 2_000)
  assert.throws(() => clock.setTime(1_600), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'a ManualClock only moves forward: it is at 1700, asked for 1600',
  })
  assert.throws(() => clock.advance(-1), { code: ErrorCodes.INVALID_ARGUMENT })
  clock.advance(300)
  await waits[2]
  assert.deepEqual(woken, [1_200, 1_500, 2_000])
  assert.equal(clock.nextWakeTime, undefined)
})

test('an aborted wait resolves false and stops counting as a waiter; whenWaiting tells when someone waits', async () => {
  const clock = new ManualClock()
  const controller = new AbortController()
  let told = false
  const waiting = clock.whenWaiting().then(() => {
    told = true
  })
  await Promise.resolve()
  assert.equal(told, false)
  const wait = clock.waitUntil(10, controller.signal)
  await waiting
  assert.equal(told, true)
  controller.abort()
  assert.equal(await wait, false)
  assert.equal(clock.nextWakeTime, undefined)
  assert.equal(await clock.waitUntil(10, controller.signal), false, 'an aborted signal never waits')
})
