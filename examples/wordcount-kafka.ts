// Word count over a Kafka topic, exactly once into another Kafka topic through the Kafka sink.
//
// Each batch produces one record per word (key: the word, value: how often it occurred in
// the batch) in ONE Kafka transaction that also commits the batch's until-offsets to the
// consumer group `sluice-<app>`. A consumer of the output that reads with
// isolation.level=read_committed sees every batch's counts exactly once: summing the values
// per key gives the totals. A re-run of a committed batch finds the group's offsets moved and
// produces nothing; a second instance of the app takes the transactional id over and fences
// this one. No checkpoint is needed: the stream starts at the group's committed offsets.
//
//   KAFKA_BOOTSTRAP=127.0.0.1:9092 TOPIC=words OUT=word-counts npm run example -- examples/wordcount-kafka.ts
//
// Run it from the repository: the "example" script runs the file on Node 24 and resolves
// 'sluice' to the sources, as the installed package would be resolved. `npx sluice kafka
// start` starts a local broker and prints its bootstrap address. TOPIC must name an
// existing topic (the job fails at start, naming it, otherwise). Ctrl-C stops the job
// gracefully.
import {
  createKafkaSink,
  createLogger,
  type GroupOptions,
  type KafkaSink,
  type Logger,
  type StaticSplitOptions,
  type StoredOffsets,
  type StreamingContext,
  type StreamingListener,
} from 'sluice'
import { type BatchHooks, startWithSink, writeWithHooks } from './batch-hooks.ts'
import { startingFromSink, wordCountJob } from './word-count-job.ts'

export interface KafkaWordCountOptions {
  readonly brokers: readonly string[]
  readonly topic: string
  /** The output topic; it must exist. */
  readonly outputTopic: string
  /** Names the transactional id and group (`sluice-<app>`) and the checkpoint. Default 'wordcount'. */
  readonly app?: string
  /** Optional: without a checkpoint the stream resumes from the group's committed offsets. */
  readonly checkpoint?: string
  readonly batchInterval?: number
  readonly maxRatePerPartition?: number
  /** The stream's failOnDataLoss (default true). */
  readonly failOnDataLoss?: boolean
  readonly logger?: Logger
  /**
   * Share the topic's partitions with the job's other processes: each process is a member of
   * this consumer group (docs/scale-out.md); positions come from the sink.
   */
  readonly group?: GroupOptions
  /** Or: a static split of the partitions, instance i of N under a deployment epoch. */
  readonly split?: StaticSplitOptions
  /**
   * The sink's transactional id (default `sluice-<app>`). Processes that share the partitions
   * need one each, stable across a process's restarts.
   */
  readonly transactionalId?: string
  /** How long one batch's transaction may stay open before the broker aborts it (the sink's default: 60 s). */
  readonly transactionTimeoutMs?: number
  readonly hooks?: BatchHooks
  /** Progress listeners (metrics, logs), added before the stream starts. */
  readonly listeners?: readonly StreamingListener[]
}

/**
 * Starts the job: the sink first (taking the transactional id fences an older instance and
 * waits for its open transaction to be aborted; an unreachable cluster fails here), then a
 * stream that begins at the group's offsets. `done` settles when the stream stops —
 * rejecting with the error that stopped it — and the sink is closed by then.
 */
export async function startKafkaWordCount(
  options: KafkaWordCountOptions,
): Promise<{ ssc: StreamingContext; sink: KafkaSink; startingOffsets: StoredOffsets; done: Promise<void> }> {
  const app = options.app ?? 'wordcount'
  const logger = options.logger ?? createLogger()
  const hooks = options.hooks ?? {}
  const sink = createKafkaSink({
    app,
    brokers: [...options.brokers],
    logger,
    // Sharing a group, the sink commits the offsets within the group's generations.
    ...(options.group === undefined ? {} : { groupId: options.group.id }),
    ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
    ...(options.transactionTimeoutMs === undefined
      ? {}
      : { transactionTimeoutMs: options.transactionTimeoutMs }),
  })
  await sink.start()
  try {
    // Read after start(): by then no transaction of an older instance is still open.
    const { startingOffsets, job } = await startingFromSink(options, sink)
    const { ssc, counts } = wordCountJob({ ...options, app, logger, ...job })
    counts.foreachBatch(async (rdd, batch) => {
      const records = (await rdd.collect()).map(([word, count]) => ({
        topic: options.outputTopic,
        key: word,
        value: String(count),
      }))
      await writeWithHooks(sink, batch, hooks, (tx) => tx.send(records))
    })
    const { done } = await startWithSink(ssc, sink, options.listeners)
    return { ssc, sink, startingOffsets, done }
  } catch (error) {
    await sink.close()
    throw error
  }
}

if (import.meta.main) {
  const { done } = await startKafkaWordCount({
    brokers: (process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092').split(','),
    topic: process.env.TOPIC ?? 'words',
    outputTopic: process.env.OUT ?? 'word-counts',
    ...(process.env.CHECKPOINT ? { checkpoint: process.env.CHECKPOINT } : {}),
  })
  await done // Ctrl-C stops after the running batch
}
