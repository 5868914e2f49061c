import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fromSource } from '../../src/rdd/source-rdd.ts'
import { quietRunner } from './support.ts'

/** Chunks bounded by a count, never by time: without turns the timer could not fire at all. */
const maxChunks = 500_000

function busyChunk(seed: number): number[] {
  const chunk = new Array<number>(256)
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.sqrt(seed * 31 + i)
  return chunk
}

test('a timer fires while a CPU-bound task is still running', async () => {
  let timerFired = false
  const timer = setTimeout(() => {
    timerFired = true
  }, 1)
  let produced = 0
  // An in-memory source: every chunk is ready at once, so the task chains promise
  // continuations only and never waits on I/O, the case that starves the event loop.
  const rdd = fromSource(
    1,
    function* endless() {
      while (!timerFired && produced < maxChunks) yield busyChunk(produced++)
    },
    { runner: quietRunner() },
  )
  const count = await rdd.map((x) => x * 2).count()
  clearTimeout(timer)
  assert.ok(timerFired, 'the timer never fired')
  assert.ok(produced < maxChunks, `the task ran all ${maxChunks} chunks before the timer could fire`)
  assert.equal(count, produced * 256)
})

test('a timer fires while a shuffle merges a large in-memory map output', async () => {
  let timerFired = false
  let firedBeforeFirstReduceChunk: boolean | undefined
  const keys = 300_000
  const pairs = fromSource(
    1,
    function* once() {
      const chunk: [number, number][] = []
      for (let k = 0; k < keys; k++) chunk.push([k, 1])
      yield chunk
      // Set the timer only once the map side has its data: it must fire before the job ends.
      setTimeout(() => {
        timerFired = true
      }, 1)
    },
    { runner: quietRunner() },
  )
  const reduced = pairs
    .reduceByKey((a, b) => a + b, { numPartitions: 1 })
    .mapChunks((chunk) => {
      firedBeforeFirstReduceChunk ??= timerFired
      return chunk
    })
  assert.equal(await reduced.count(), keys)
  assert.equal(
    firedBeforeFirstReduceChunk,
    true,
    'the timer had not fired by the time the reduce side handed out its first records',
  )
})
