// What the broker-outage tests share: a broker of the test's own with a client whose retries
// outlast its restarts, topics of numbered values, and a direct stream over them that
// collects what its batches did and remembers how it ended.
import type { TestContext } from 'node:test'
import type { SluiceError } from '../../src/core/errors.ts'
import { type Logger, silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import type { LocalKafka } from '../../src/local-kafka/broker.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { Batch, BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { eventually } from './eventually.ts'
import { privateBroker } from './own-servers.ts'

// What a client sees of a broker restart is the downtime plus the broker's own start (JVM, log
// recovery after SIGKILL): 10–30 s on the shared machine. Budgets that must outlast an outage
// leave room for that.
export const outlastsAnyOutage = 120_000

export const values = (from: number, until: number) =>
  Array.from({ length: until - from }, (_, i) => `v${from + i}`)

/** A broker of the test's own, and a client of it that retries for `outlastsAnyOutage`; both end with the test. */
export async function brokerWithClient(t: TestContext): Promise<{ kafka: LocalKafka; client: KafkaClient }> {
  const kafka = await privateBroker(t)
  const client = new KafkaClient({
    brokers: [kafka.bootstrap],
    logger: silentLogger,
    retryTimeoutMs: outlastsAnyOutage,
  })
  t.after(() => client.close())
  return { kafka, client }
}

/** A topic on the test's broker, deleted when the (sub)test ends. */
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

/** Produces values `v<from>`… `v<from+count-1>`, round-robin over the partitions. */
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

export interface OutageStreamOptions {
  readonly retryTimeoutMs?: number
  /** Default 1000: 200 records per partition per 200 ms batch, so a backlog takes a few batches. */
  readonly maxRatePerPartition?: number
  readonly logger?: Logger
  /** What a batch does with its values (e.g. write them to a sink); they count as seen once it resolves. */
  readonly output?: (values: string[], batch: Batch) => Promise<void>
}

/** A stream from the earliest offsets that collects every value and BatchInfo, and remembers how it ended. */
export async function startStream(
  t: TestContext,
  kafka: LocalKafka,
  topic: string,
  checkpoint: string,
  options: OutageStreamOptions = {},
) {
  const ssc = new StreamingContext({
    appName: 'outage',
    batchInterval: 200,
    checkpoint,
    logger: options.logger ?? silentLogger,
  })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: [kafka.bootstrap],
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    maxRatePerPartition: options.maxRatePerPartition ?? 1000,
    ...(options.retryTimeoutMs === undefined ? {} : { retryTimeoutMs: options.retryTimeoutMs }),
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
    .foreachBatch(async (rdd, batch) => {
      const batchValues = await rdd.collect()
      await options.output?.(batchValues, batch)
      seen.push(...batchValues)
    })
  await ssc.start()
  // A failed assertion must not leave the stream running against a broker that is stopped next.
  t.after(() => ssc.stop({ graceful: false }))
  const ended = ssc.awaitTermination().then(
    () => undefined,
    (error: SluiceError) => error,
  )
  /** Waits until `count` values were seen; a stream that fails meanwhile fails the wait with its error. */
  const waitForValues = async (count: number, timeoutMs = outlastsAnyOutage) => {
    await eventually(() => seen.length >= count || failure !== undefined, `${count} values`, { timeoutMs })
    if (failure) throw failure
  }
  return { ssc, seen, infos, ended, failure: () => failure, waitForValues }
}
