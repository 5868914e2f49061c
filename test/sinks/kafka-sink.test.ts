import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { type TestContext, test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import type { KafkaClient } from '../../src/kafka/client.ts'
import { freePort } from '../../src/local-servers/ports.ts'
import type { SinkBatch, SinkOffsetRange } from '../../src/sinks/batch.ts'
import { createKafkaSink, type KafkaSink, type KafkaSinkTransaction } from '../../src/sinks/kafka-sink.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { consumeTopic } from '../helpers/topic-reader.ts'

interface World {
  readonly app: string
  readonly client: KafkaClient
  readonly source: string
  readonly out: string
  sink(): Promise<KafkaSink>
}

/** A random app with a 2-partition source topic and a 2-partition output topic. */
async function world(t: TestContext): Promise<World> {
  const client = testClient(t)
  const app = `kafka-sink-${randomBytes(6).toString('hex')}`
  const source = await createTestTopic(t, client, { partitions: 2, prefix: 'sink-src' })
  const out = await createTestTopic(t, client, { partitions: 2, prefix: 'sink-out' })
  return {
    app,
    client,
    source,
    out,
    sink: async () => {
      const sink = createKafkaSink({ app, brokers: bootstrap(), logger: silentLogger })
      t.after(() => sink.close())
      await sink.start()
      return sink
    },
  }
}

function batch(
  id: number,
  ranges: SinkOffsetRange[],
  replay = false,
  lostRanges?: SinkOffsetRange[],
): SinkBatch {
  return {
    id,
    time: 1_700_000_000_000 + id,
    replay,
    offsetRanges: ranges,
    ...(lostRanges ? { lostRanges } : {}),
  }
}

const range = (
  topic: string,
  partition: number,
  fromOffset: bigint,
  untilOffset: bigint,
): SinkOffsetRange => ({
  topic,
  partition,
  fromOffset,
  untilOffset,
})

/** One output record per source offset of the batch: `<partition>:<offset>`, to the same partition. */
function mirror(out: string) {
  return async (tx: KafkaSinkTransaction) => {
    for (const r of tx.batch.offsetRanges) {
      const records = []
      for (let o = r.fromOffset; o < r.untilOffset; o++) {
        records.push({
          topic: out,
          partition: r.partition,
          key: `b${tx.batch.id}`,
          value: `${r.partition}:${o}`,
        })
      }
      await tx.send(records)
    }
  }
}

const values = async (w: World, isolation?: 'read_uncommitted') =>
  (await consumeTopic(w.out, isolation)).map((r) => r.value)

test('each batch is visible exactly once to read_committed readers, and the group holds its until-offsets', async (t) => {
  const w = await world(t)
  const sink = await w.sink()
  assert.equal(sink.transactionalId, `sluice-${w.app}`)
  const b0 = batch(0, [range(w.source, 0, 0n, 3n), range(w.source, 1, 0n, 2n)])
  const b1 = batch(1, [range(w.source, 0, 3n, 4n), range(w.source, 1, 2n, 2n)])
  assert.equal(await sink.writeBatch(b0, mirror(w.out)), 'applied')
  assert.equal(await sink.writeBatch(b1, mirror(w.out)), 'applied')

  assert.deepEqual(await values(w), ['0:0', '0:1', '0:2', '0:3', '1:0', '1:1'])
  assert.deepEqual(await sink.storedOffsets(), { [w.source]: { 0: 4n, 1: 2n } })
  assert.deepEqual(
    await w.client.groupOffsets(`sluice-${w.app}`, [
      { topic: w.source, partition: 0 },
      { topic: w.source, partition: 1 },
    ]),
    [
      { topic: w.source, partition: 0, offset: 4n },
      { topic: w.source, partition: 1, offset: 2n },
    ],
  )
})

test('a replayed batch is not produced again; a first run of an applied batch is FENCED', async (t) => {
  const w = await world(t)
  const sink = await w.sink()
  const b0 = batch(0, [range(w.source, 0, 0n, 2n)])
  await sink.writeBatch(b0, mirror(w.out))

  let called = false
  const replay = await sink.writeBatch({ ...b0, replay: true }, async () => {
    called = true
  })
  assert.equal(replay, 'already-applied')
  assert.equal(called, false)
  await assert.rejects(sink.writeBatch(b0, mirror(w.out)), {
    code: ErrorCodes.FENCED,
    message:
      `batch 0 of app '${w.app}' was already applied by another instance (consumer group 'sluice-${w.app}' holds ` +
      'its until-offsets) although this run is not a replay; this instance has been fenced and must stop',
  })
  assert.deepEqual(await values(w), ['0:0', '0:1'])
})

test('a write function that throws aborts the transaction: its records stay invisible, the offsets stay put', async (t) => {
  const w = await world(t)
  const sink = await w.sink()
  const cause = new Error('cannot serialize result')
  const b0 = batch(0, [range(w.source, 0, 0n, 2n)])
  await assert.rejects(
    sink.writeBatch(b0, async (tx) => {
      await tx.send([{ topic: w.out, partition: 0, value: 'doomed' }])
      throw cause
    }),
    (error: SluiceError) =>
      error.code === ErrorCodes.SINK &&
      error.cause === cause &&
      error.message ===
        `batch 0 of app '${w.app}' was not written: the write function failed: cannot serialize result; ` +
          'nothing of the batch was applied',
  )
  assert.deepEqual(await values(w), [])
  assert.deepEqual(
    await values(w, 'read_uncommitted'),
    ['doomed'],
    'the aborted record is in the log, hidden',
  )
  assert.deepEqual(await sink.storedOffsets(), {})

  assert.equal(await sink.writeBatch({ ...b0, replay: true }, mirror(w.out)), 'applied')
  assert.deepEqual(await values(w), ['0:0', '0:1'])
})

test('a batch that does not line up with the group offsets fails with SINK_OFFSET_MISMATCH and writes nothing', async (t) => {
  const w = await world(t)
  const sink = await w.sink()
  await sink.writeBatch(batch(0, [range(w.source, 0, 0n, 5n)]), mirror(w.out))
  await assert.rejects(sink.writeBatch(batch(1, [range(w.source, 0, 7n, 9n)]), mirror(w.out)), {
    code: ErrorCodes.SINK_OFFSET_MISMATCH,
    message:
      `batch 1 of app '${w.app}' does not line up with the offsets in consumer group 'sluice-${w.app}': ` +
      `it reads ${w.source}-0 [7, 9) but ${w.source}-0 has stored offset 5 (expected 7 before the batch, ` +
      "or 9 after it); offsets 5 to 6 would never be written (a gap): the stream did not start from the sink's " +
      `offsets (startingOffsets, or a checkpoint of another deployment), or consumer group 'sluice-${w.app}' was ` +
      'reset or restored to older offsets; nothing was written',
  })
  assert.deepEqual(await values(w), ['0:0', '0:1', '0:2', '0:3', '0:4'])
  assert.deepEqual(await sink.storedOffsets(), { [w.source]: { 0: 5n } })
})

test('a second instance of the app fences the first, even in the middle of a batch', async (t) => {
  const w = await world(t)
  const first = await w.sink()
  await first.writeBatch(batch(0, [range(w.source, 0, 0n, 1n)]), mirror(w.out))

  const sent = Promise.withResolvers<void>()
  const resume = Promise.withResolvers<void>()
  const zombie = first.writeBatch(batch(1, [range(w.source, 0, 1n, 3n)]), async (tx) => {
    await tx.send([{ topic: w.out, partition: 0, value: 'from the zombie' }])
    sent.resolve()
    await resume.promise
  })
  await sent.promise
  // Starting the second instance aborts the first one's open transaction and fences it.
  const second = await w.sink()
  resume.resolve()
  await assert.rejects(zombie, {
    code: ErrorCodes.FENCED,
    message:
      `batch 1 of app '${w.app}' was not written: another instance took over transactional id ` +
      `'sluice-${w.app}' (or the batch's transaction outlived transactionTimeoutMs and the broker aborted it); ` +
      'this instance has been fenced and must stop',
  })
  await assert.rejects(first.writeBatch(batch(2, [range(w.source, 0, 3n, 4n)]), mirror(w.out)), {
    code: ErrorCodes.FENCED,
  })

  assert.equal(
    await second.writeBatch(batch(1, [range(w.source, 0, 1n, 3n)], true), mirror(w.out)),
    'applied',
  )
  assert.deepEqual(await values(w), ['0:0', '0:1', '0:2'])
  assert.deepEqual(await second.storedOffsets(), { [w.source]: { 0: 3n } })
})

test('invalid options fail at construction naming the option', () => {
  const brokers = bootstrap()
  assert.throws(() => createKafkaSink({ app: '', brokers }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `createKafkaSink: option 'app' must be a non-empty string, got a string ("")`,
  })
  assert.throws(() => createKafkaSink({ app: 'wc', brokers: [] }), {
    code: ErrorCodes.INVALID_OPTION,
    message:
      "createKafkaSink: option 'brokers' must be a non-empty array of 'host:port' strings, got an array (length 0)",
  })
  assert.throws(() => createKafkaSink({ app: 'wc', brokers, groupId: ' ' }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `createKafkaSink: option 'groupId' must be a non-empty string, got a string (" ")`,
  })
  assert.throws(() => createKafkaSink({ app: 'wc', brokers, transactionTimeoutMs: 1.5 }), {
    code: ErrorCodes.INVALID_OPTION,
    message:
      "createKafkaSink: option 'transactionTimeoutMs' must be an integer (milliseconds), got a number (1.5)",
  })
})

test('start fails when the cluster cannot be reached, naming the transactional id', async (t) => {
  const port = await freePort()
  const sink = createKafkaSink({
    app: 'unreachable',
    brokers: [`127.0.0.1:${port}`],
    connection: { connectTimeoutMs: 500, retryTimeoutMs: 1000 },
    logger: silentLogger,
  })
  t.after(() => sink.close())
  await assert.rejects(sink.start(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.KAFKA)
    assert.ok(
      error.message.startsWith("initializing transactional id 'sluice-unreachable' failed: "),
      error.message,
    )
    assert.ok(error.message.includes(`(Connection to 127.0.0.1:${port} failed.)`), error.message)
    return true
  })
})

test('start fails when a declared output topic does not exist, naming it', async (t) => {
  const client = testClient(t)
  const present = await createTestTopic(t, client)
  const missing = `${present}-missing`
  const sink = createKafkaSink({
    app: `topics-${randomBytes(4).toString('hex')}`,
    brokers: bootstrap(),
    topics: [present, missing],
    logger: silentLogger,
  })
  t.after(() => sink.close())
  await assert.rejects(
    sink.start(),
    (error: SluiceError) =>
      error.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION &&
      error.message === `topic '${missing}' does not exist`,
  )
  assert.throws(() => createKafkaSink({ app: 'wc', brokers: bootstrap(), topics: [''] }), {
    message: `createKafkaSink: option 'topics[0]' must be a topic name, got a string ("")`,
  })
})

test('a gap declared lost is written over and kept in the offsets metadata; an undeclared gap still fails', async (t) => {
  const w = await world(t)
  const sink = await w.sink()
  await sink.writeBatch(batch(0, [range(w.source, 0, 0n, 2n), range(w.source, 1, 0n, 1n)]), mirror(w.out))
  assert.deepEqual(await sink.lostRecords(), [])

  // Partition 0 stood at 2; retention moved its log start to 5 before the stream read on.
  const b1 = batch(1, [range(w.source, 0, 5n, 6n), range(w.source, 1, 1n, 2n)], false, [
    range(w.source, 0, 2n, 5n),
  ])
  assert.equal(await sink.writeBatch(b1, mirror(w.out)), 'applied')
  assert.deepEqual(await sink.storedOffsets(), { [w.source]: { 0: 6n, 1: 2n } })
  const afterB1 = [
    { topic: w.source, partition: 0, records: 3n, last: { fromOffset: 2n, untilOffset: 5n, batchId: 1 } },
  ]
  assert.deepEqual(await sink.lostRecords(), afterB1)
  // Visible to any tool that reads the group's offsets with their metadata.
  const metadata = (await w.client.groupOffsets(`sluice-${w.app}`)).find((o) => o.partition === 0)?.metadata
  assert.deepEqual(JSON.parse(metadata!), {
    format: 'sluice.lost.v1',
    records: '3',
    last: { from: '2', until: '5', batch: 1 },
  })
  assert.equal(await sink.writeBatch({ ...b1, replay: true }, mirror(w.out)), 'already-applied')

  // The next batch without loss carries the total forward; a second loss adds to it.
  await sink.writeBatch(batch(2, [range(w.source, 0, 6n, 7n), range(w.source, 1, 2n, 2n)]), mirror(w.out))
  assert.deepEqual(await sink.lostRecords(), afterB1)
  const b3 = batch(3, [range(w.source, 0, 9n, 9n), range(w.source, 1, 4n, 5n)], false, [
    range(w.source, 0, 7n, 9n),
    range(w.source, 1, 2n, 4n),
  ])
  assert.equal(await sink.writeBatch(b3, mirror(w.out)), 'applied')
  assert.deepEqual(await sink.lostRecords(), [
    { topic: w.source, partition: 0, records: 5n, last: { fromOffset: 7n, untilOffset: 9n, batchId: 3 } },
    { topic: w.source, partition: 1, records: 2n, last: { fromOffset: 2n, untilOffset: 4n, batchId: 3 } },
  ])

  // A gap nobody declared: nothing is written.
  await assert.rejects(
    sink.writeBatch(batch(4, [range(w.source, 1, 7n, 8n)]), mirror(w.out)),
    (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.SINK_OFFSET_MISMATCH)
      assert.match(error.message, /offsets 5 to 6 would never be written \(a gap\)/)
      return true
    },
  )
  assert.deepEqual(await values(w), ['0:0', '0:1', '0:5', '0:6', '1:0', '1:1', '1:4'])
  assert.deepEqual(await sink.storedOffsets(), { [w.source]: { 0: 9n, 1: 5n } })
})
