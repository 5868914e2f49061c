import { describeReceived } from '../core/describe-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import {
  booleanOption,
  definedOnly,
  instanceOption,
  integerOption,
  loggerOption,
  MAX_INT32,
  oneOf,
  optionPath,
  optionsObject,
  type ParsedOptions,
  parseOptions,
  positiveInteger,
} from '../core/options.ts'
import { KafkaClient } from '../kafka/client.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import {
  brokerList,
  connectionOptionFields,
  type KafkaConnectionOptions,
  resolveConnection,
} from '../kafka/options.ts'
import type { IsolationLevel } from '../kafka/types.ts'
import { TaskRunner } from '../rdd/task-runner.ts'
import { ClientLease } from './client-lease.ts'
import {
  type Deserializer,
  type Deserializers,
  deserializersOption,
  resolveDeserializer,
} from './deserializers.ts'
import type { KafkaReadSettings } from './kafka-rdd.ts'
import { KafkaRDD } from './kafka-rdd.ts'
import {
  type DeserializationErrorPolicy,
  deserializationErrorOption,
  UndecodableRecords,
} from './undecodable-records.ts'

/** Options shared by createRDD and createDirectStream for reading Kafka. */
export interface KafkaReadOptions<K, V> extends KafkaConnectionOptions {
  /** Bootstrap brokers as `host:port` strings; give this or `client`. */
  readonly brokers?: readonly string[]
  /** An existing client to use (you close it); otherwise one is opened from `brokers` per action. */
  readonly client?: KafkaClient
  readonly deserializers?: Deserializers<K, V>
  /** 'read_committed' (default) hides aborted transactions and never reads past the last stable offset. */
  readonly isolationLevel?: IsolationLevel
  /** Bytes per fetch request; a reading task holds at most two fetches. Default 512 KiB. */
  readonly maxBytesPerFetch?: number
  /** Set true for compacted or transactional topics so count()/isEmpty() read instead of subtracting offsets. Default: checks cleanup.policy. */
  readonly allowNonConsecutiveOffsets?: boolean
  /**
   * Verify the CRC-32C of every fetched record batch, as Kafka's Java consumer does
   * (`check.crcs`). A corrupt batch is fetched once more; corrupt again, the task fails with
   * SLUICE_CORRUPT_RECORD_BATCH naming the topic, partition and offsets. Default true.
   */
  readonly checkCrcs?: boolean
  /**
   * A record whose key or value cannot be deserialized: `'fail'` (default) fails the read
   * naming its topic, partition and offset; `'skip'` leaves it out, logged and counted;
   * `{ deadLetterTopic }` leaves it out and sends its raw key, value and headers to that topic,
   * with headers naming its topic, partition, offset, the error and the batch. See
   * docs/operations.md for what is counted where and the delivery guarantee.
   */
  readonly onDeserializationError?: DeserializationErrorPolicy
  readonly logger?: Logger
}

/** Options of `createRDD`: how to read Kafka, and how many tasks run at once. */
export interface CreateRddOptions<K, V> extends KafkaReadOptions<K, V> {
  /** Partition tasks running at once (each holds up to two fetches). Default 4. */
  readonly taskConcurrency?: number
  /** Attempts per task before the action fails. Default 4. */
  readonly maxTaskAttempts?: number
}

export const defaultMaxBytesPerFetch = 512 * 1024

/** The schema fields of KafkaReadOptions, for the options types that extend it. */
export const readOptionFields = {
  ...connectionOptionFields,
  brokers: brokerList,
  client: instanceOption(KafkaClient, "a KafkaClient (from 'sluice/admin')"),
  deserializers: deserializersOption,
  isolationLevel: oneOf(['read_committed', 'read_uncommitted']),
  maxBytesPerFetch: integerOption({ min: 1024, max: MAX_INT32, unit: 'bytes' }),
  allowNonConsecutiveOffsets: booleanOption,
  checkCrcs: booleanOption,
  onDeserializationError: deserializationErrorOption,
  logger: loggerOption,
}

type ParsedReadOptions = ParsedOptions<typeof readOptionFields>

const connectionKeys = ['brokers', ...Object.keys(connectionOptionFields)] as const

/** Reading needs a cluster: `brokers` (sluice connects) or `client` (yours), never both. */
export function checkReadSource(options: ParsedReadOptions, path = ''): void {
  if (options.client === undefined) {
    if (options.brokers === undefined)
      throw invalidOption(optionPath(path, 'brokers'), "is required (or pass 'client')")
    return
  }
  const both = connectionKeys.find((key) => (options as Record<string, unknown>)[key] !== undefined)
  if (both !== undefined) {
    throw invalidOption(
      optionPath(path, both),
      "cannot be combined with 'client': the client you pass has its own connection settings",
    )
  }
}

/** Builds the settings every KafkaRDD of a source shares, from checked read options. */
export function readSettings<K, V>(options: ParsedReadOptions, lease?: ClientLease): KafkaReadSettings<K, V> {
  return {
    lease: lease ?? leaseFor(options),
    key: resolveDeserializer<K>(
      options.deserializers?.key as Deserializer<K> | undefined,
      'deserializers.key',
    ),
    value: resolveDeserializer<V>(
      options.deserializers?.value as Deserializer<V> | undefined,
      'deserializers.value',
    ),
    isolationLevel: options.isolationLevel ?? 'read_committed',
    maxBytesPerFetch: options.maxBytesPerFetch ?? defaultMaxBytesPerFetch,
    allowNonConsecutiveOffsets: options.allowNonConsecutiveOffsets ?? 'auto',
    checkCrcs: options.checkCrcs ?? true,
    onDeserializationError: options.onDeserializationError ?? 'fail',
  }
}

function leaseFor(options: ParsedReadOptions): ClientLease {
  if (options.client !== undefined) return ClientLease.borrow(options.client)
  // Only the connection settings: the read options may be part of a larger options object.
  const { brokers, logger, clientId, connectTimeoutMs, requestTimeoutMs, retryTimeoutMs, tls, sasl } = options
  const settings = resolveConnection({
    brokers: brokers!,
    ...definedOnly({ logger, clientId, connectTimeoutMs, requestTimeoutMs, retryTimeoutMs, tls, sasl }),
  })
  return ClientLease.own(() => new KafkaClient(settings))
}

const createRddOptions = optionsObject(
  { ...readOptionFields, taskConcurrency: positiveInteger, maxTaskAttempts: positiveInteger },
  checkReadSource,
)

/**
 * A batch job over explicit Kafka offset ranges — Spark's `KafkaUtils.createRDD`. Returns at
 * once; the ranges are checked against the log and read when an action runs.
 */
export function createRDD<K = Buffer, V = Buffer>(
  options: CreateRddOptions<K, V>,
  ranges: readonly OffsetRange[],
): KafkaRDD<K, V> {
  const { taskConcurrency, maxTaskAttempts, ...readOptions } = parseOptions(
    createRddOptions,
    options,
    'createRDD',
  )
  if (!Array.isArray(ranges) || ranges.some((r) => !(r instanceof OffsetRange))) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `createRDD: ranges must be an array of OffsetRange (use OffsetRange.create), got ${describeReceived(ranges)}`,
    )
  }
  const settings = readSettings<K, V>(readOptions)
  const runner =
    taskConcurrency === undefined && maxTaskAttempts === undefined
      ? undefined
      : new TaskRunner({
          ...(taskConcurrency === undefined ? {} : { concurrency: taskConcurrency }),
          ...(maxTaskAttempts === undefined ? {} : { maxAttempts: maxTaskAttempts }),
          ...(readOptions.logger ? { logger: readOptions.logger } : {}),
        })
  return new KafkaRDD({
    ranges,
    settings,
    ...(runner ? { runner } : {}),
    // A batch job has no commit to wait for: each task sends the dead letters it found.
    ...(settings.onDeserializationError === 'fail'
      ? {}
      : {
          undecodable: new UndecodableRecords(settings.onDeserializationError, {
            logger: readOptions.logger ?? createLogger(),
          }),
          sendDeadLettersPerTask: true,
        }),
  })
}
