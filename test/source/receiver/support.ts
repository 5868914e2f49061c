// Shared pieces of the receiver stream tests against a broker: a context with a receiver on a
// topic, and the write-ahead log's files.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, type Logger } from '../../../src/core/logger.ts'
import type { KafkaRecord } from '../../../src/kafka/records.ts'
import {
  createReceiverStream,
  type ReceiverInputDStream,
} from '../../../src/source/receiver/receiver-input-dstream.ts'
import type { ReceiverStreamOptions } from '../../../src/source/receiver/receiver-options.ts'
import type { BatchInfo } from '../../../src/stream/batch.ts'
import { StreamingContext } from '../../../src/stream/streaming-context.ts'
import { bootstrap, randomTopicName } from '../../helpers/kafka.ts'

export interface ReceiverJob {
  readonly ssc: StreamingContext
  readonly stream: ReceiverInputDStream<string, string>
  readonly infos: BatchInfo[]
}

/** A context (checkpoint in `checkpoint`) with one receiver stream of string values on `topic`. */
export function receiverJob(
  options: {
    readonly topic: string
    readonly groupId: string
    readonly checkpoint?: string
    readonly logger?: Logger
    readonly batchInterval?: number
  } & Partial<ReceiverStreamOptions<string, string>>,
): ReceiverJob {
  const { topic, checkpoint, logger, batchInterval, ...receiver } = options
  const ssc = new StreamingContext({
    appName: 'receiver-test',
    batchInterval: batchInterval ?? 200,
    ...(checkpoint === undefined ? {} : { checkpoint }),
    stopOnSignals: false,
    logger: logger ?? createLogger({ level: 'silent' }),
  })
  const stream = createReceiverStream<string, string>(ssc, {
    brokers: bootstrap(),
    topics: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    blockInterval: 50,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    ...receiver,
  })
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  return { ssc, stream, infos }
}

export function newGroup(): string {
  return randomTopicName('receiver-group')
}

/** The segment files of one of an input's logs ('data' or 'metadata'), oldest first. */
export function segments(checkpoint: string, log: 'data' | 'metadata', input = 'kafka-receiver-0'): string[] {
  return readdirSync(join(checkpoint, 'receivers', input, log))
    .filter((name) => name.endsWith('.wal'))
    .sort()
}

export function segmentPath(
  checkpoint: string,
  log: 'data' | 'metadata',
  name: string,
  input = 'kafka-receiver-0',
) {
  return join(checkpoint, 'receivers', input, log, name)
}

/** Values in the order the records were read. */
export function valuesOf(records: readonly KafkaRecord<string, string>[]): string[] {
  return records.map((r) => r.value!)
}
