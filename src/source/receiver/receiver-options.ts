import { describeReceived } from '../../core/describe-value.ts'
import { invalidOption } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import {
  arrayOption,
  customOption,
  durationMs,
  eitherOption,
  integerOption,
  MAX_INT32,
  nonEmptyString,
  numberOption,
  oneOf,
  optionPath,
  optionsObject,
  parseOptions,
  required,
  withOwner,
} from '../../core/options.ts'
import {
  brokerList,
  connectionOptionFields,
  type KafkaConnectionOptions,
  type ResolvedClientOptions,
  resolveConnection,
} from '../../kafka/options.ts'
import type { PayloadDecoder } from '../../kafka/records.ts'
import type { IsolationLevel } from '../../kafka/types.ts'
import {
  type BackpressureOptions,
  type RateControlSettings,
  rateControlOptionFields,
  rateControlSettings,
} from '../../scheduler/rate-control-options.ts'
import {
  type Deserializer,
  type Deserializers,
  deserializersOption,
  resolveDeserializer,
} from '../deserializers.ts'
import { type DeserializationErrorPolicy, deserializationErrorOption } from '../undecodable-records.ts'
import type { DamagePolicy } from './wal-damage.ts'

/** The received-data and tracker logs' segment settings. */
export interface WriteAheadLogOptions {
  /** A segment is closed and a new one started after this many ms. Default 60,000 (Spark's rolling interval). */
  readonly rollInterval?: number
  /** ...or once it would grow past this many bytes. Default 64 MiB. */
  readonly maxSegmentBytes?: number
}

/** Options of `createReceiverStream` (Spark's `KafkaUtils.createStream` and its receiver settings). */
export interface ReceiverStreamOptions<K, V> extends KafkaConnectionOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[]
  /** Topics the receiver's consumer subscribes to. */
  readonly topics: readonly string[]
  /** The consumer group the receiver joins, and where its offsets are committed. */
  readonly groupId: string
  /** The input's name: the key of its plans in the checkpoint and of its write-ahead log directory. Default `kafka-receiver-<k>`. */
  readonly name?: string
  /**
   * Reliable mode (Spark's ReliableKafkaReceiver): every block is appended to a write-ahead
   * log in the checkpoint directory, and only then are its offsets committed to the group.
   * Needs the context's `checkpoint`. Default false: the consumer auto-commits what it fetched.
   */
  readonly writeAheadLog?: boolean | WriteAheadLogOptions
  /** Every this many ms the records received become a block. Default 200 (spark.streaming.blockInterval). */
  readonly blockInterval?: number
  /** Blocks waiting to be stored, at most, before the receiver stops reading. Default 10 (spark.streaming.blockQueueSize). */
  readonly blockQueueSize?: number
  /** Records per second this receiver takes at most (a token bucket). 0 (default) = no limit. */
  readonly receiverMaxRate?: number
  /** Adapt the receiver's rate to how fast batches are processed (the direct stream's PID estimator). */
  readonly backpressure?: BackpressureOptions
  readonly deserializers?: Deserializers<K, V>
  /** Where a partition the group has no committed offset for starts. Default 'latest'. */
  readonly startingOffsets?: 'earliest' | 'latest'
  /** Default 'read_committed'. */
  readonly isolationLevel?: IsolationLevel
  /** Bytes the receiver's consumer fetches at most per request. Default 512 KiB. */
  readonly maxBytesPerFetch?: number
  /**
   * Without the write-ahead log: how often the receiver auto-commits the records it has taken
   * in, processed or not, in ms. Default 5,000 (Kafka's auto.commit.interval.ms).
   */
  readonly autoCommitInterval?: number
  /** The consumer's session timeout, in ms. Default 30,000. */
  readonly sessionTimeout?: number
  /** The consumer's heartbeat interval, in ms. Default 3,000. */
  readonly heartbeatInterval?: number
  /** Static group membership (KIP-345): a restarted job with the same id gets its partitions back at once. */
  readonly groupInstanceId?: string
  /** After the receiver's consumer fails, wait this many ms before starting another. Default 2,000. */
  readonly restartDelay?: number
  /**
   * When recovery finds the write-ahead log damaged: 'fail' (default) refuses to start, naming
   * the files, byte offsets and blocks; 'skip' goes on without them, logging each lost block's
   * offset ranges and counting its records as lost.
   */
  readonly onDamagedWal?: DamagePolicy
  /**
   * A record whose key or value cannot be deserialized, as for the direct stream: `'fail'`
   * (default) fails the batch naming its topic, partition and offset; `'skip'` leaves it out,
   * logged and counted; `{ deadLetterTopic }` leaves it out and sends its raw key, value and
   * headers to that topic (at least once). Decoding happens when a batch reads its blocks,
   * from memory or the write-ahead log, so a re-run batch refuses the same records.
   */
  readonly onDeserializationError?: DeserializationErrorPolicy
}

export interface ResolvedReceiverSettings<K, V> {
  readonly connection: ResolvedClientOptions
  readonly topics: readonly string[]
  readonly groupId: string
  readonly name: string | undefined
  readonly wal: { readonly rollIntervalMs: number; readonly maxSegmentBytes: number } | undefined
  readonly blockIntervalMs: number
  readonly blockQueueSize: number
  /** records/s; Infinity when there is no limit. */
  readonly maxRate: number
  readonly rates: RateControlSettings
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
  readonly startFrom: 'earliest' | 'latest'
  readonly isolationLevel: IsolationLevel
  readonly maxBytesPerFetch: number
  readonly autoCommitIntervalMs: number
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly groupInstanceId: string | undefined
  readonly restartDelayMs: number
  readonly onDamagedWal: DamagePolicy
  readonly onDeserializationError: DeserializationErrorPolicy
}

const RECEIVER_DEFAULTS = {
  blockIntervalMs: 200,
  blockQueueSize: 10,
  startFrom: 'latest',
  isolationLevel: 'read_committed',
  maxBytesPerFetch: 512 * 1024,
  autoCommitIntervalMs: 5_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  restartDelayMs: 2_000,
  rollIntervalMs: 60_000,
  maxSegmentBytes: 64 * 2 ** 20,
  onDamagedWal: 'fail',
  onDeserializationError: 'fail',
} as const

const writeAheadLogOptions = optionsObject({
  rollInterval: durationMs(),
  maxSegmentBytes: integerOption({ min: 4096, max: 2 ** 30, unit: 'bytes' }),
})

const writeAheadLogOption = eitherOption(
  (value) => typeof value !== 'object' || value === null || Array.isArray(value),
  customOption<boolean>('true, false or { rollInterval, maxSegmentBytes }', (value, path) => {
    if (typeof value === 'boolean') return value
    throw invalidOption(
      path,
      `must be true, false or { rollInterval, maxSegmentBytes }, got ${describeReceived(value)}`,
    )
  }),
  writeAheadLogOptions,
)

const receiverOptions = optionsObject(
  {
    ...connectionOptionFields,
    brokers: required(brokerList),
    topics: required(
      arrayOption(nonEmptyString, { nonEmpty: true, expected: 'a non-empty array of topic names' }),
    ),
    groupId: required(nonEmptyString),
    name: nonEmptyString,
    writeAheadLog: writeAheadLogOption,
    blockInterval: durationMs(),
    blockQueueSize: integerOption({ min: 1, max: 100_000, unit: 'blocks' }),
    receiverMaxRate: numberOption({ min: 0, unit: 'records per second, 0 = no limit' }),
    backpressure: rateControlOptionFields.backpressure,
    deserializers: deserializersOption,
    startingOffsets: oneOf(['earliest', 'latest']),
    isolationLevel: oneOf(['read_committed', 'read_uncommitted']),
    maxBytesPerFetch: integerOption({ min: 1024, max: MAX_INT32, unit: 'bytes' }),
    autoCommitInterval: durationMs(),
    sessionTimeout: durationMs(),
    heartbeatInterval: durationMs(),
    groupInstanceId: nonEmptyString,
    restartDelay: durationMs(0),
    onDamagedWal: oneOf(['fail', 'skip']),
    onDeserializationError: deserializationErrorOption,
  },
  (o, path) => {
    const wal = o.writeAheadLog !== undefined && o.writeAheadLog !== false
    if (wal && o.autoCommitInterval !== undefined) {
      throw invalidOption(
        optionPath(path, 'autoCommitInterval'),
        'has no effect with writeAheadLog: the receiver commits each block once it is in the log; remove it',
      )
    }
    if (!wal && o.onDamagedWal !== undefined) {
      throw invalidOption(optionPath(path, 'onDamagedWal'), 'only applies with writeAheadLog: true')
    }
    const session = o.sessionTimeout ?? RECEIVER_DEFAULTS.sessionTimeoutMs
    const heartbeat = o.heartbeatInterval ?? RECEIVER_DEFAULTS.heartbeatIntervalMs
    if (heartbeat >= session) {
      throw invalidOption(
        optionPath(path, 'heartbeatInterval'),
        `must be shorter than sessionTimeout (${session} ms), got ${heartbeat}`,
      )
    }
  },
)

/**
 * Checks every option of a receiver stream at construction and fills in the defaults; an
 * unknown or misspelt option is refused with the closest known one, and options that only
 * mean something in the other mode (auto-commit with a write-ahead log, damage policy
 * without one) are refused rather than ignored.
 */
export function resolveReceiverOptions<K, V>(
  options: ReceiverStreamOptions<K, V>,
  context: {
    readonly logger: Logger
    readonly batchInterval: number
    readonly checkpointDir: string | undefined
  },
): ResolvedReceiverSettings<K, V> {
  const o = parseOptions(receiverOptions, options, 'createReceiverStream')
  const walOption = o.writeAheadLog
  const wal =
    walOption === undefined || walOption === false
      ? undefined
      : {
          rollIntervalMs:
            (walOption === true ? undefined : walOption.rollInterval) ?? RECEIVER_DEFAULTS.rollIntervalMs,
          maxSegmentBytes:
            (walOption === true ? undefined : walOption.maxSegmentBytes) ?? RECEIVER_DEFAULTS.maxSegmentBytes,
        }
  withOwner('createReceiverStream', () => {
    if (wal !== undefined && context.checkpointDir === undefined) {
      throw invalidOption(
        'writeAheadLog',
        'needs a checkpoint directory: set `checkpoint` on the StreamingContext (the log lives in <checkpoint>/receivers/<input name>)',
      )
    }
  })
  const receiverMaxRate = o.receiverMaxRate ?? 0
  return {
    connection: resolveConnection({
      brokers: o.brokers,
      ...(o.clientId === undefined ? {} : { clientId: o.clientId }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
      ...(o.retryTimeoutMs === undefined ? {} : { retryTimeoutMs: o.retryTimeoutMs }),
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      ...(o.sasl === undefined ? {} : { sasl: o.sasl }),
      logger: context.logger,
    }),
    topics: o.topics,
    groupId: o.groupId,
    name: o.name,
    wal,
    blockIntervalMs: o.blockInterval ?? RECEIVER_DEFAULTS.blockIntervalMs,
    blockQueueSize: o.blockQueueSize ?? RECEIVER_DEFAULTS.blockQueueSize,
    maxRate: receiverMaxRate === 0 ? Number.POSITIVE_INFINITY : receiverMaxRate,
    rates: rateControlSettings(
      o.backpressure === undefined ? {} : { backpressure: o.backpressure },
      context.batchInterval,
    ),
    key: resolveDeserializer<K>(o.deserializers?.key as Deserializer<K> | undefined, 'deserializers.key'),
    value: resolveDeserializer<V>(
      o.deserializers?.value as Deserializer<V> | undefined,
      'deserializers.value',
    ),
    startFrom: o.startingOffsets ?? RECEIVER_DEFAULTS.startFrom,
    isolationLevel: o.isolationLevel ?? RECEIVER_DEFAULTS.isolationLevel,
    maxBytesPerFetch: o.maxBytesPerFetch ?? RECEIVER_DEFAULTS.maxBytesPerFetch,
    autoCommitIntervalMs: o.autoCommitInterval ?? RECEIVER_DEFAULTS.autoCommitIntervalMs,
    sessionTimeoutMs: o.sessionTimeout ?? RECEIVER_DEFAULTS.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatInterval ?? RECEIVER_DEFAULTS.heartbeatIntervalMs,
    groupInstanceId: o.groupInstanceId,
    restartDelayMs: o.restartDelay ?? RECEIVER_DEFAULTS.restartDelayMs,
    onDamagedWal: o.onDamagedWal ?? RECEIVER_DEFAULTS.onDamagedWal,
    onDeserializationError: o.onDeserializationError ?? RECEIVER_DEFAULTS.onDeserializationError,
  }
}
