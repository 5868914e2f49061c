// The word count pipeline every example shares: a direct stream of lines, turned into
// [word, count] pairs per batch. Each example adds only its own output.
import {
  createDirectStream,
  type DStream,
  type GroupOptions,
  type Logger,
  type PartitionOffsetStore,
  type StartingOffsets,
  type StaticSplitOptions,
  type StoredOffsets,
  StreamingContext,
  type UiOptions,
} from 'sluice'

export interface WordCountJobOptions {
  readonly app: string
  readonly brokers: readonly string[]
  readonly topic: string
  /** Reads every topic whose name matches instead of `topic` (subscribePattern). */
  readonly topicPattern?: RegExp | undefined
  readonly checkpoint?: string | undefined
  readonly batchInterval?: number | undefined
  readonly maxRatePerPartition?: number | undefined
  readonly startingOffsets?: StartingOffsets | undefined
  /** How long Kafka calls ride out a broker restart or a leader move before the stream fails (default 30 s). */
  readonly retryTimeoutMs?: number | undefined
  /** false: skip records retention deleted before they were read (the sink records them) instead of failing. */
  readonly failOnDataLoss?: boolean | undefined
  /** The web UI and metrics (docs/ui.md). */
  readonly ui?: UiOptions | undefined
  readonly logger: Logger
  /** Share the topic's partitions with the job's other processes (docs/scale-out.md): a consumer group... */
  readonly group?: GroupOptions | undefined
  /** ...or a static split. Either needs the sink as `offsetStore`. */
  readonly split?: StaticSplitOptions | undefined
  readonly offsetStore?: PartitionOffsetStore | undefined
}

/** Splits a line into words; the same rule in every example, so their counts agree. */
export function wordsOf(line: string | null): string[] {
  return (line ?? '').split(/\s+/).filter((word) => word.length > 0)
}

export function wordCountJob(options: WordCountJobOptions): {
  ssc: StreamingContext
  counts: DStream<[string, number]>
} {
  const ssc = new StreamingContext({
    appName: options.app,
    batchInterval: options.batchInterval ?? 1000,
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
    stopOnSignals: true,
    logger: options.logger,
    ...(options.ui === undefined ? {} : { ui: options.ui }),
  })
  const lines = createDirectStream<string, string>(ssc, {
    brokers: [...options.brokers],
    ...(options.topicPattern === undefined
      ? { subscribe: [options.topic] }
      : { subscribePattern: options.topicPattern }),
    // A checkpoint, when it has a position, takes precedence over the starting offsets.
    startingOffsets: options.startingOffsets ?? 'earliest',
    deserializers: { key: 'string', value: 'string' },
    ...(options.maxRatePerPartition === undefined
      ? {}
      : { maxRatePerPartition: options.maxRatePerPartition }),
    ...(options.retryTimeoutMs === undefined ? {} : { retryTimeoutMs: options.retryTimeoutMs }),
    ...(options.failOnDataLoss === undefined ? {} : { failOnDataLoss: options.failOnDataLoss }),
    ...(options.group === undefined ? {} : { group: options.group }),
    ...(options.split === undefined ? {} : { split: options.split }),
    ...(options.offsetStore === undefined ? {} : { offsetStore: options.offsetStore }),
    logger: options.logger,
  })
  const counts = lines
    .flatMap((record) => wordsOf(record.value))
    .map((word): [string, number] => [word, 1])
    .reduceByKey((a, b) => a + b)
  return { ssc, counts }
}

/**
 * Where a word count that writes through an offset-storing sink starts. Alone, from every
 * offset the sink stored (partitions it does not list start at the log start). Shared with
 * other processes (`group` or `split`), the sink is the stream's offset store instead: each
 * partition resumes from it when this process claims it.
 */
export async function startingFromSink(
  options: Pick<WordCountJobOptions, 'group' | 'split'>,
  sink: PartitionOffsetStore & { storedOffsets(): Promise<StoredOffsets> },
): Promise<{
  startingOffsets: StoredOffsets
  job: Pick<WordCountJobOptions, 'offsetStore' | 'startingOffsets'>
}> {
  if (options.group !== undefined || options.split !== undefined) {
    return { startingOffsets: {}, job: { offsetStore: sink } }
  }
  const startingOffsets = await sink.storedOffsets()
  return { startingOffsets, job: { startingOffsets } }
}
