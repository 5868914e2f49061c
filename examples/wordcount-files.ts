// Word count over a Kafka topic into one JSON Lines file per batch through the file sink.
//
// Batch N's counts go to `<dir>/N.jsonl`, replaced atomically. The file sink keeps no offsets:
// exactly-once comes from re-runs writing identical files, so this job needs a checkpoint
// (batch ids and ranges must survive a restart) and writes each batch's counts sorted by
// word (the same records always give the same file).
//
//   KAFKA_BOOTSTRAP=127.0.0.1:9092 TOPIC=words OUT=./counts CHECKPOINT=./ckpt npm run example -- examples/wordcount-files.ts
//
// Run it from the repository: the "example" script runs the file on Node 24 and resolves
// 'sluice' to the sources, as the installed package would be resolved. `npx sluice kafka
// start` starts a local broker and prints its bootstrap address. TOPIC must name an
// existing topic (the job fails at start, naming it, otherwise). Ctrl-C stops the job
// gracefully.
import {
  createFileSink,
  createLogger,
  type FileSink,
  type Logger,
  type StreamingContext,
  type StreamingListener,
} from 'sluice'
import { type BatchHooks, startWithSink, writeWithHooks } from './batch-hooks.ts'
import { wordCountJob } from './word-count-job.ts'

export interface FileWordCountOptions {
  readonly brokers: readonly string[]
  readonly topic: string
  /** Where `<batchId>.jsonl` files go. */
  readonly dir: string
  /** Required: the file sink relies on the checkpoint to re-run a batch with the same id and ranges. */
  readonly checkpoint: string
  readonly app?: string
  readonly batchInterval?: number
  readonly maxRatePerPartition?: number
  readonly logger?: Logger
  readonly hooks?: Omit<BatchHooks, 'inTransaction'>
  /** Progress listeners (metrics, logs), added before the stream starts. */
  readonly listeners?: readonly StreamingListener[]
}

export async function startFileWordCount(
  options: FileWordCountOptions,
): Promise<{ ssc: StreamingContext; sink: FileSink; done: Promise<void> }> {
  const app = options.app ?? 'wordcount'
  const logger = options.logger ?? createLogger()
  const hooks = options.hooks ?? {}
  const sink = createFileSink({ app, dir: options.dir, logger })
  await sink.start()
  const { ssc, counts } = wordCountJob({ ...options, app, logger })
  counts.foreachBatch(async (rdd, batch) => {
    // Sorted: a re-run must produce the same bytes.
    const counts = (await rdd.collect()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    await writeWithHooks(sink, batch, hooks, (out) => {
      for (const [word, count] of counts) out.write({ word, count })
    })
  })
  const { done } = await startWithSink(ssc, sink, options.listeners)
  return { ssc, sink, done }
}

if (import.meta.main) {
  const { done } = await startFileWordCount({
    brokers: (process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092').split(','),
    topic: process.env.TOPIC ?? 'words',
    dir: process.env.OUT ?? 'word-counts',
    checkpoint: process.env.CHECKPOINT ?? '.sluice/wordcount-files-checkpoint',
  })
  await done // Ctrl-C stops after the running batch
}
