// The word count pipeline every example shares: a direct stream of lines, turned into
// [word, count] pairs per batch. Each example adds only its own output.
import {
  createDirectStream,
  type DStream,
  type Logger,
  type StartingOffsets,
  StreamingContext,
  type UiOptions,
} from 'sluice'

export interface WordCountJobOptions {
  readonly app: string
  readonly brokers: readonly string[]
  readonly topic: string
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
    subscribe: [options.topic],
    // A checkpoint, when it has a position, takes precedence over the starting offsets.
    startingOffsets: options.startingOffsets ?? 'earliest',
    deserializers: { key: 'string', value: 'string' },
    ...(options.maxRatePerPartition === undefined
      ? {}
      : { maxRatePerPartition: options.maxRatePerPartition }),
    ...(options.retryTimeoutMs === undefined ? {} : { retryTimeoutMs: options.retryTimeoutMs }),
    ...(options.failOnDataLoss === undefined ? {} : { failOnDataLoss: options.failOnDataLoss }),
    logger: options.logger,
  })
  const counts = lines
    .flatMap((record) => wordsOf(record.value))
    .map((word): [string, number] => [word, 1])
    .reduceByKey((a, b) => a + b)
  return { ssc, counts }
}
