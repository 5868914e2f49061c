import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import type { Rdd } from '../../src/rdd/rdd.ts'
import { ManualClock } from '../../src/scheduler/manual-clock.ts'
import { queueStream } from '../../src/source/queue-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { BatchDriver, collectBatches } from '../../src/testing/batch-driver.ts'
import { tempDir } from '../helpers/temp-dir.ts'

function context(options: { checkpoint?: string; clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock(1_000)
  const ssc = new StreamingContext({
    appName: 'queue',
    batchInterval: 100,
    clock,
    logger: silentLogger,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  })
  return { ssc, clock, driver: new BatchDriver(ssc, clock) }
}

const items = (...batches: number[][]): Rdd<number>[] => batches.map((values) => parallelize(values, 2))

test('one queued RDD per batch; a batch with nothing queued has no RDD; RDDs pushed while running are picked up', async () => {
  const { ssc, driver } = context()
  const queue = items([1, 2], [3])
  const stream = queueStream(ssc, queue)
  const doubled = collectBatches(stream.map((x) => x * 2))
  await ssc.start()
  const infos = await driver.run(3)
  queue.push(...items([4, 5, 6]))
  infos.push(await driver.next())
  await ssc.stop()
  assert.deepEqual(
    doubled.batches.map((b) => [b.id, b.values.sort((x, y) => x - y)]),
    [
      [0, [2, 4]],
      [1, [6]],
      [3, [8, 10, 12]],
    ],
  )
  assert.deepEqual(
    infos.map((i) => [i.id, i.records, i.progress.sources.map((s) => s.description)]),
    [
      [0, 2, ['queue item 0']],
      [1, 1, ['queue item 1']],
      [2, 0, []],
      [3, 3, ['queue item 2']],
    ],
  )
  assert.deepEqual(infos[0]!.progress.sources[0]!.kind, 'queue')
  assert.deepEqual(infos[0]!.offsetRanges, [])
})

test('oneAtATime: false takes everything queued since the last batch, as one union', async () => {
  const { ssc, driver } = context()
  const queue = items([1], [2, 3], [4])
  const out = collectBatches(queueStream(ssc, queue, { oneAtATime: false }))
  await ssc.start()
  await driver.next()
  queue.push(...items([5], [6]))
  const second = await driver.next()
  await ssc.stop()
  assert.deepEqual(
    out.batches.map((b) => b.values.sort((x, y) => x - y)),
    [
      [1, 2, 3, 4],
      [5, 6],
    ],
  )
  assert.equal(second.progress.sources[0]!.description, 'queue items 3 to 4')
})

test('across a restart a queue stream keeps its place by position: the pending batch re-runs its RDDs, then it goes on', async (t) => {
  const dir = tempDir(t, 'checkpoint')
  const queued = () => items([10], [20], [30], [40], [50])
  const first = context({ checkpoint: dir })
  const seen: [number, number[]][] = []
  queueStream(first.ssc, queued()).foreachBatch(async (rdd, batch) => {
    if (batch.id === 2) throw new Error('the sink is down')
    seen.push([batch.id, await rdd.collect()])
  })
  await first.ssc.start()
  await first.driver.run(2)
  await assert.rejects(first.driver.next(), { code: ErrorCodes.BATCH_FAILED })
  await first.ssc.awaitTermination().catch(() => {})
  const pending = JSON.parse(await readFile(join(dir, 'offsets', '2'), 'utf8'))
  assert.deepEqual(pending.inputs, {
    'queue-0': { kind: 'queue', plan: { from: 2, until: 3, records: 1 }, state: { next: 3 } },
  })

  const second = context({ checkpoint: dir, clock: new ManualClock(5_000) })
  const after = collectBatches(queueStream(second.ssc, queued()))
  await second.ssc.start()
  await second.driver.run(3)
  await second.ssc.stop()
  assert.deepEqual(seen, [
    [0, [10]],
    [1, [20]],
  ])
  assert.deepEqual(
    after.batches.map((b) => [b.id, b.replay, b.values]),
    [
      [2, true, [30]],
      [3, false, [40]],
      [4, false, [50]],
    ],
  )
})

test('a restart whose queue lacks the RDDs the pending batch took fails saying why', async (t) => {
  const dir = tempDir(t, 'checkpoint')
  const first = context({ checkpoint: dir })
  queueStream(first.ssc, items([1], [2], [3])).foreachBatch((_rdd, batch) => {
    if (batch.id === 2) throw new Error('down')
  })
  await first.ssc.start()
  await first.driver.run(2)
  await assert.rejects(first.driver.next())
  await first.ssc.awaitTermination().catch(() => {})

  const second = context({ checkpoint: dir })
  queueStream(second.ssc, items([1])).foreachBatch(() => {})
  await second.ssc.start()
  await assert.rejects(second.ssc.awaitTermination(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.STATE)
    assert.equal(
      error.message,
      "queue stream 'queue-0': batch 2 takes the RDDs at positions 2 to 2, but the queue holds 1. A queue stream " +
        'resumes by position: give it the same RDDs in the same order on every start, or start over with another ' +
        'checkpoint directory',
    )
    return true
  })
})

test('input names: given, or kind and registration order within each context; a clash or a bad name fails', () => {
  const ssc = new StreamingContext({ appName: 'names', batchInterval: 100, logger: silentLogger })
  const other = new StreamingContext({ appName: 'names', batchInterval: 100, logger: silentLogger })
  const rdds = items([1])
  assert.deepEqual(
    [queueStream(ssc, rdds), queueStream(ssc, rdds, { name: 'orders' }), queueStream(ssc, rdds)].map(
      (s) => s.name,
    ),
    ['queue-0', 'orders', 'queue-1'],
  )
  assert.equal(queueStream(other, rdds).name, 'queue-0', 'names count per context, not per process')
  const invalid = (options: object, message: string, given: unknown = rdds) =>
    assert.throws(
      () => queueStream(ssc, given as never, options),
      (e: SluiceError) => e.code === ErrorCodes.INVALID_OPTION && e.message === `queueStream: ${message}`,
    )
  invalid(
    { name: 'orders' },
    "option 'name' 'orders' is already the name of another input of this StreamingContext; give each input its own name",
  )
  invalid(
    { name: '.hidden' },
    `option 'name' must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.', got ".hidden"`,
  )
  invalid(
    { name: 'a/b' },
    `option 'name' must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.', got "a/b"`,
  )
  invalid({ oneAtATime: 'yes' }, `option 'oneAtATime' must be a boolean, got a string ("yes")`)
  invalid({}, `option 'rdds[1]' must be an RDD (parallelize(...) makes one), got an array (length 2)`, [
    rdds[0],
    [1, 2],
  ])
  invalid({}, `option 'rdds' must be an array of RDDs, got a string ("none")`, 'none')
  // Failed constructions registered nothing: the next default name is still queue-2.
  assert.equal(queueStream(ssc, rdds).name, 'queue-2')
})
