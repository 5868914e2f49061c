import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type TestContext, test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { sinkBatchChannelName } from '../../src/index.ts'
import type { SinkBatch } from '../../src/sinks/batch.ts'
import { createFileSink } from '../../src/sinks/file-sink.ts'
import { createKafkaSink } from '../../src/sinks/kafka-sink.ts'
import type { SinkBatchEvent } from '../../src/sinks/sink-diagnostics.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { batch, sqlWorld } from './sql/fixtures.ts'

/** Every sluice:sink:batch message published while the test runs, durations checked and dropped. */
function recordEvents(t: TestContext): Omit<SinkBatchEvent, 'durationMs'>[] {
  const events: Omit<SinkBatchEvent, 'durationMs'>[] = []
  const onMessage = (message: unknown) => {
    const { durationMs, ...rest } = message as SinkBatchEvent
    assert.ok(Number.isFinite(durationMs) && durationMs >= 0, `durationMs ${durationMs}`)
    events.push(rest)
  }
  subscribe(sinkBatchChannelName, onMessage)
  t.after(() => unsubscribe(sinkBatchChannelName, onMessage))
  return events
}

const noop = async () => {}
const settle = (promise: Promise<unknown>) => promise.catch(() => undefined)

test('the SQL sink publishes applied, already-applied, fenced and failed after each writeBatch', async (t) => {
  const world = await sqlWorld(t, 'sqlite')
  const sink = await world.sink()
  const events = recordEvents(t)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 3n]]), noop)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 3n]], true), noop)
  await settle(sink.writeBatch(batch(0, [['words', 0, 0n, 3n]]), noop))
  await settle(sink.writeBatch(batch(1, [['words', 0, 5n, 6n]]), noop))
  await settle(
    sink.writeBatch(batch(1, [['words', 0, 3n, 6n]]), async () => {
      throw new Error('worker died')
    }),
  )
  // A malformed batch never reaches the database, and is counted all the same.
  await settle(sink.writeBatch({ id: 'x' } as unknown as SinkBatch, noop))
  const app = world.app
  assert.deepEqual(events, [
    { app, sink: 'sql', batchId: 0, outcome: 'applied' },
    { app, sink: 'sql', batchId: 0, outcome: 'already-applied' },
    { app, sink: 'sql', batchId: 0, outcome: 'fenced' },
    { app, sink: 'sql', batchId: 1, outcome: 'failed' },
    { app, sink: 'sql', batchId: 1, outcome: 'failed' },
    { app, sink: 'sql', batchId: -1, outcome: 'failed' },
  ])
})

test('the file sink publishes applied, already-applied, fenced and failed', async (t) => {
  const dir = tempDir(t, 'sink-events')
  const first = createFileSink({ app: 'files', dir, logger: silentLogger })
  await first.start()
  const events = recordEvents(t)
  const b0: SinkBatch = { id: 0, time: 0, replay: false, offsetRanges: [] }
  await first.writeBatch(b0, async (out) => out.write({ a: 1 }))
  await first.writeBatch({ ...b0, replay: true }, async (out) => out.write({ a: 1 }))
  await settle(
    first.writeBatch({ ...b0, id: 1 }, async () => {
      throw new Error('worker died')
    }),
  )
  await createFileSink({ app: 'files', dir, logger: silentLogger }).start()
  await settle(first.writeBatch({ ...b0, id: 1 }, noop))
  assert.deepEqual(events, [
    { app: 'files', sink: 'file', batchId: 0, outcome: 'applied' },
    { app: 'files', sink: 'file', batchId: 0, outcome: 'already-applied' },
    { app: 'files', sink: 'file', batchId: 1, outcome: 'failed' },
    { app: 'files', sink: 'file', batchId: 1, outcome: 'fenced' },
  ])
})

test('the Kafka sink publishes applied, already-applied, fenced and failed', async (t) => {
  const client = testClient(t)
  const source = await createTestTopic(t, client, { partitions: 1, prefix: 'events-src' })
  const app = `events-${randomBytes(5).toString('hex')}`
  const sink = createKafkaSink({ app, brokers: bootstrap(), logger: silentLogger })
  t.after(() => sink.close())
  await sink.start()
  const events = recordEvents(t)
  const b0: SinkBatch = {
    id: 0,
    time: 0,
    replay: false,
    offsetRanges: [{ topic: source, partition: 0, fromOffset: 0n, untilOffset: 2n }],
  }
  await sink.writeBatch(b0, noop)
  await sink.writeBatch({ ...b0, replay: true }, noop)
  const b1 = {
    ...b0,
    id: 1,
    offsetRanges: [{ topic: source, partition: 0, fromOffset: 5n, untilOffset: 6n }],
  }
  await settle(sink.writeBatch(b1, noop))
  const newer = createKafkaSink({ app, brokers: bootstrap(), logger: silentLogger })
  t.after(() => newer.close())
  await newer.start()
  await settle(sink.writeBatch({ ...b1, offsetRanges: [{ ...b1.offsetRanges[0]!, fromOffset: 2n }] }, noop))
  assert.deepEqual(events, [
    { app, sink: 'kafka', batchId: 0, outcome: 'applied' },
    { app, sink: 'kafka', batchId: 0, outcome: 'already-applied' },
    { app, sink: 'kafka', batchId: 1, outcome: 'failed' },
    { app, sink: 'kafka', batchId: 1, outcome: 'fenced' },
  ])
})
