import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { queueStream } from '../../src/source/queue-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { BatchDriver, collectBatches, ManualClock } from '../../src/testing/index.ts'

test('sluice/testing: batches run when the driver says, at exact times, and their output is collected', async () => {
  const clock = new ManualClock(10_000)
  const ssc = new StreamingContext({ appName: 'testing', batchInterval: 1_000, clock, logger: silentLogger })
  const words = queueStream(ssc, [parallelize(['a b', 'b']), parallelize(['c'])])
  const counts = collectBatches(
    words
      .flatMap((line) => line.split(' '))
      .map((w): [string, number] => [w, 1])
      .reduceByKey((a, b) => a + b),
  )
  const driver = new BatchDriver(ssc, clock)
  await ssc.start()
  const infos = await driver.run(3)
  await ssc.stop()
  assert.deepEqual(
    infos.map((i) => [i.id, i.time, i.records]),
    [
      [0, 10_000, 2],
      [1, 11_000, 1],
      [2, 12_000, 0],
    ],
  )
  assert.deepEqual(
    new Map(counts.valuesOf(0)),
    new Map([
      ['a', 1],
      ['b', 2],
    ]),
  )
  assert.deepEqual(counts.valuesOf(1), [['c', 1]])
  assert.equal(counts.valuesOf(2), undefined, 'nothing queued: no output for batch 2')
  assert.equal(clock.now(), 12_000)
  await assert.rejects(driver.next(), /the stream stopped before another batch completed/)
})

test('sluice/testing: a BatchDriver needs the clock the context was given', () => {
  const ssc = new StreamingContext({
    appName: 'testing',
    batchInterval: 1_000,
    clock: new ManualClock(),
    logger: silentLogger,
  })
  assert.throws(
    () => new BatchDriver(ssc, new ManualClock()),
    /needs the ManualClock the StreamingContext was given/,
  )
})
