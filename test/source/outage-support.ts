// What the broker-outage tests of the direct stream share: a broker of the test's own, topics
// of numbered values, and a stream that collects them and remembers how it ended.
import type { TestContext } from 'node:test'
import type { SluiceError } from '../../src/core/errors.ts'
import { type Logger, silentLogger } from '../../src/core/logger.ts'
import type { KafkaClient } from '../../src/kafka/client.ts'
import type { LocalKafka } from '../../src/local-kafka/broker.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { eventually } from '../helpers/eventually.ts'

// What a client sees of a broker restart is the downtime plus the broker's own start (JVM, log
// recovery after SIGKILL): 10–30 s on the shared machine. Budgets that must outlast an outage
// leave room for that.
export const outlastsAnyOutage = 120_000

export const values = (from: number, until: number) =>
  Array.from({ length: until - from }, (_, i) => `v${from + i}`)

/** A topic on the test's broker, deleted when the subtest ends. */
export async function topicOf(
  t: TestContext,
  client: KafkaClient,
  name: string,
  partitions: number,
): Promise<string> {
  await client.createTopics([{ name, partitions }])
  t.after(() => client.deleteTopics([name]).catch(() => {}))
  return name
}

export async function produceValues(
  client: KafkaClient,
  topic: string,
  partitions: number,
  from: number,
  count: number,
) {
  await client.produce(
    Array.from({ length: count }, (_, i) => ({
      topic,
      partition: (from + i) % partitions,
      value: `v${from + i}`,
    })),
  )
}

/** A stream that collects every value and BatchInfo, and remembers how it ended. */
export async function startStream(
  t: TestContext,
  kafka: LocalKafka,
  topic: string,
  checkpoint: string,
  extra: { retryTimeoutMs?: number } = {},
  logger: Logger = silentLogger,
) {
  const ssc = new StreamingContext({
    appName: 'outage',
    batchInterval: 200,
    checkpoint,
    logger,
  })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: [kafka.bootstrap],
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    maxRatePerPartition: 1000, // 200 records per partition per batch: a backlog takes a few batches
    ...extra,
  })
  const seen: string[] = []
  const infos: BatchInfo[] = []
  let failure: SluiceError | undefined
  ssc.addListener({
    onBatchCompleted: (info) => infos.push(info),
    onStreamingStopped: (event) => {
      if (event.error) failure = event.error
    },
  })
  stream
    .map((r) => r.value!)
    .foreachBatch(async (rdd) => {
      seen.push(...(await rdd.collect()))
    })
  await ssc.start()
  // A failed assertion must not leave the stream running against a broker that is stopped next.
  t.after(() => ssc.stop({ graceful: false }))
  const ended = ssc.awaitTermination().then(
    () => undefined,
    (error: SluiceError) => error,
  )
  /** Waits until `count` values were seen; a stream that fails meanwhile fails the wait with its error. */
  const waitForValues = async (count: number) => {
    await eventually(() => seen.length >= count || failure !== undefined, `${count} values`, {
      timeoutMs: outlastsAnyOutage,
    })
    if (failure) throw failure
  }
  return { ssc, seen, infos, ended, failure: () => failure, waitForValues }
}
