import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Semaphore } from '../../src/rdd/semaphore.ts'

test('permits are handed out in request order and returned on release', async () => {
  const semaphore = new Semaphore(1)
  const order: string[] = []
  const releaseA = await semaphore.acquire()
  const b = semaphore.acquire().then((release) => {
    order.push('b')
    return release
  })
  const c = semaphore.acquire().then((release) => {
    order.push('c')
    return release
  })
  assert.equal(semaphore.available, 0)
  releaseA()
  releaseA() // a second release of the same permit changes nothing
  ;(await b)()
  ;(await c)()
  assert.deepEqual(order, ['b', 'c'])
  assert.equal(semaphore.available, 1)
})

test('an aborted wait rejects with the reason and never takes a permit', async () => {
  const semaphore = new Semaphore(1)
  const release = await semaphore.acquire()
  const controller = new AbortController()
  const waiting = semaphore.acquire(controller.signal)
  controller.abort(new Error('job failed'))
  await assert.rejects(waiting, { message: 'job failed' })
  release()
  assert.equal(semaphore.available, 1)
  await assert.rejects(semaphore.acquire(controller.signal), { message: 'job failed' })
})
