import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import { test } from 'node:test'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../../../src/core/logger.ts'
import { createKafkaSink, kafkaSinkStepChannelName } from '../../../src/sinks/kafka-sink.ts'
import {
  brokerWithClient,
  outlastsAnyOutage,
  produceValues,
  startStream,
  topicOf,
  values,
} from '../../helpers/outage-stream.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { consumeTopic } from '../../helpers/topic-reader.ts'

// A broker restart takes 10–30 s on the shared machine: the retry budget (outlastsAnyOutage)
// outlasts it, while each transaction the sink must ride out stays below its 60 s timeout.
const total = 3000
const partitions = 2

/** Where in a batch's transaction the broker dies. */
type FaultPoint = 'between-sends' | 'offsets-committed' | 'commit-sent'

test('a stream into the Kafka sink rides out broker SIGKILLs inside its transactions: exact output, no failed batch', {
  timeout: 600_000,
}, async (t) => {
  const { kafka, client } = await brokerWithClient(t)
  const source = await topicOf(t, client, `restart-src-${randomBytes(4).toString('hex')}`, partitions)
  const out = await topicOf(t, client, `restart-out-${randomBytes(4).toString('hex')}`, partitions)
  await produceValues(client, source, partitions, 0, total)

  const sink = createKafkaSink({
    app: `restart-${randomBytes(4).toString('hex')}`,
    brokers: [kafka.bootstrap],
    connection: { retryTimeoutMs: outlastsAnyOutage },
    logger: silentLogger,
  })
  t.after(() => sink.close())
  await sink.start()

  // Each fault kills the broker once, at its point of the first batch at or after `fromBatch` that
  // runs after the previous outage ended, and starts it again a second later on the same port and data.
  const faults: { point: FaultPoint; fromBatch: number; firedAt?: number }[] = [
    { point: 'between-sends', fromBatch: 1 },
    { point: 'offsets-committed', fromBatch: 3 },
    { point: 'commit-sent', fromBatch: 5 },
  ]
  let outage: Promise<void> | undefined
  const maybeFail = async (point: FaultPoint, batchId: number) => {
    const fault = faults.find((f) => f.firedAt === undefined)
    if (outage !== undefined || fault === undefined || fault.point !== point || batchId < fault.fromBatch)
      return
    fault.firedAt = batchId
    // The EndTxn request is on its way: the broker may die before or after it completes the commit.
    if (point === 'commit-sent') await nextTurn()
    const killed = kafka.kill()
    outage = killed
      .then(() => sleep(1000))
      .then(() => kafka.start())
      .finally(() => {
        outage = undefined
      })
    await killed
  }
  const step = channel(kafkaSinkStepChannelName)
  const onStep = (message: unknown) => {
    const { batchId, step: point } = message as { batchId: number; step: FaultPoint }
    void maybeFail(point, batchId)
  }
  step.subscribe(onStep)
  t.after(() => step.unsubscribe(onStep))

  const job = await startStream(t, kafka, source, tempDir(t, 'kafka-sink-restart'), {
    retryTimeoutMs: outlastsAnyOutage,
    maxRatePerPartition: 500, // 100 records per partition per batch: 15 batches
    output: async (batchValues, batch) => {
      const records = batchValues.map((value) => ({ topic: out, key: value, value }))
      const half = Math.ceil(records.length / 2)
      const outcome = await sink.writeBatch(batch, async (tx) => {
        await tx.send(records.slice(0, half))
        await maybeFail('between-sends', batch.id)
        await tx.send(records.slice(half))
      })
      // 'already-applied' on a first run: a commit whose answer was lost had taken effect.
      if (outcome !== 'applied') t.diagnostic(`batch ${batch.id}: ${outcome}`)
    },
  })

  await job.waitForValues(total, 4 * outlastsAnyOutage)
  await job.ssc.stop({ graceful: true })
  assert.equal(await job.ended, undefined, 'no batch failed')
  assert.deepEqual(
    faults.map((f) => f.firedAt !== undefined),
    [true, true, true],
    `every fault fired (at batches ${faults.map((f) => f.firedAt).join(', ')})`,
  )
  assert.deepEqual(
    job.infos.map((i) => i.id),
    job.infos.map((_, i) => i),
    'every batch id, none skipped',
  )

  // The independent judge: Kafka's own consumer, read_committed, sees every value exactly once.
  const output = await consumeTopic(out, 'read_committed', [kafka.bootstrap])
  assert.deepEqual(output.map((r) => r.value).sort(), values(0, total).sort())
  const stored = await client.groupOffsets(sink.groupId, undefined, { requireStable: true })
  assert.deepEqual(stored.map((o) => [o.topic, o.partition, o.offset]).sort(), [
    [source, 0, BigInt(total / partitions)],
    [source, 1, BigInt(total / partitions)],
  ])
})
