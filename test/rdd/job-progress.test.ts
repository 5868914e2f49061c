import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger } from '../../src/core/logger.ts'
import type { JobProgress } from '../../src/rdd/job-progress.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { quietRunner } from './support.ts'

test('an action reports every task done, the shuffle stage it ran included, and ends with done', async () => {
  const runner = quietRunner({ concurrency: 2 })
  const words = parallelize(['a', 'b', 'a', 'c', 'b', 'a'], 3, { runner })
  const reports: JobProgress[] = []
  const counts = await words
    .map((w): [string, number] => [w, 1])
    .reduceByKey((a, b) => a + b, { numPartitions: 2 })
    .collect({ onProgress: (p) => reports.push(p) })
  assert.deepEqual(
    new Map(counts),
    new Map([
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]),
  )
  const last = reports.at(-1)!
  // 2 reduce tasks of the action, known first; then the 3 map tasks of its shuffle stage.
  assert.deepEqual(
    { total: last.tasksTotal, done: last.tasksDone, finished: last.done },
    { total: 5, done: 5, finished: true },
  )
  assert.equal(reports.filter((r) => r.done).length, 1)
  assert.deepEqual(
    reports.map((r) => r.tasksDone),
    [...reports.map((r) => r.tasksDone)].sort((a, b) => a - b),
  )
  assert.equal(reports[0]!.tasksTotal, 2)
  // Nothing here reads Kafka.
  assert.ok(reports.every((r) => r.recordsRead === 0))
})

test('actions without onProgress report nothing, and a listener that throws is dropped while the action succeeds', async () => {
  const lines: string[] = []
  const runner = quietRunner({ logger: createLogger({ sink: (line) => lines.push(line) }) })
  let calls = 0
  const total = await parallelize([1, 2, 3, 4], 4, { runner }).collect({
    onProgress: () => {
      calls++
      throw new Error('the terminal went away')
    },
  })
  assert.deepEqual(total, [1, 2, 3, 4])
  assert.equal(calls, 1)
  assert.equal(lines.length, 1)
  assert.match(lines[0]!, /"msg":"an onProgress listener threw; it gets no more reports"/)
  assert.match(lines[0]!, /the terminal went away/)
  await assert.rejects(
    parallelize([1], 1, { runner }).collect({ onProgress: 'yes' as never }),
    /option 'onProgress' must be a function/,
  )
})
