import { describeValue } from '../../core/describe-value.ts'
import { invalidOption } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import {
  type KafkaClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from '../../kafka/options.ts'
import type { PayloadDecoder } from '../../kafka/records.ts'
import type { IsolationLevel } from '../../kafka/types.ts'
import {
  type BackpressureOptions,
  normalizeRateControlOptions,
  type RateControlSettings,
} from '../../scheduler/rate-control-options.ts'
import { type Deserializers, resolveDeserializer } from '../deserializers.ts'
import type { DamagePolicy } from './wal-damage.ts'

/** The received-data and tracker logs' segment settings. */
export interface WriteAheadLogOptions {
  /** A segment is closed and a new one started after this many ms. Default 60,000 (Spark's rolling interval). */
  readonly rollInterval?: number
  /** ...or once it would grow past this many bytes. Default 64 MiB. */
  readonly maxSegmentBytes?: number
}

/** Options of `createReceiverStream` (Spark's `KafkaUtils.createStream` and its receiver settings). */
export interface ReceiverStreamOptions<K, V> extends Partial<Omit<KafkaClientOptions, 'logger' | 'brokers'>> {
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
} as const

const CONNECTION_KEYS = [
  'brokers',
  'clientId',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'retryTimeoutMs',
  'tls',
  'sasl',
]
const RECEIVER_KEYS = [
  ...CONNECTION_KEYS,
  'topics',
  'groupId',
  'name',
  'writeAheadLog',
  'blockInterval',
  'blockQueueSize',
  'receiverMaxRate',
  'backpressure',
  'deserializers',
  'startingOffsets',
  'isolationLevel',
  'maxBytesPerFetch',
  'autoCommitInterval',
  'sessionTimeout',
  'heartbeatInterval',
  'groupInstanceId',
  'restartDelay',
  'onDamagedWal',
]
const WAL_KEYS = ['rollInterval', 'maxSegmentBytes']
const DESERIALIZER_KEYS = ['key', 'value']
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Checks every option of a receiver stream at construction and fills in the defaults; an
 * unknown or misspelt option is refused with the list of known ones, and options that only
 * mean something in the other mode (auto-commit with a write-ahead log, damage policy
 * without one) are refused rather than ignored.
 */
export function resolveReceiverOptions<K, V>(
  options: ReceiverStreamOptions<K, V>,
  logger: Logger,
): ResolvedReceiverSettings<K, V> {
  const o = knownKeys(options, '', RECEIVER_KEYS)
  const topics = o.topics
  if (!Array.isArray(topics) || topics.length === 0) {
    throw invalidOption('topics', `must be a non-empty array of topic names, got ${describeValue(topics)}`)
  }
  topics.forEach((topic, i) => {
    if (typeof topic !== 'string' || topic.trim() === '') {
      throw invalidOption(`topics[${i}]`, `must be a non-empty topic name, got ${describeValue(topic)}`)
    }
  })
  const groupId = nonEmptyString(o.groupId, 'groupId')
  if (groupId === undefined)
    throw invalidOption('groupId', 'is required: the consumer group the receiver joins')
  const connection = resolveClientOptions({
    ...pick(o, CONNECTION_KEYS),
    logger,
  } as unknown as KafkaClientOptions)
  const walOption = o.writeAheadLog
  let wal: ResolvedReceiverSettings<K, V>['wal']
  if (
    walOption === true ||
    (walOption !== null && typeof walOption === 'object' && !Array.isArray(walOption))
  ) {
    const w = walOption === true ? {} : knownKeys(walOption, 'writeAheadLog', WAL_KEYS)
    wal = {
      rollIntervalMs:
        integer(w.rollInterval, 'writeAheadLog.rollInterval', 1, MAX_TIMER_MS) ??
        RECEIVER_DEFAULTS.rollIntervalMs,
      maxSegmentBytes:
        integer(w.maxSegmentBytes, 'writeAheadLog.maxSegmentBytes', 4096, 2 ** 30) ??
        RECEIVER_DEFAULTS.maxSegmentBytes,
    }
  } else if (walOption !== undefined && walOption !== false) {
    throw invalidOption(
      'writeAheadLog',
      `must be true, false or { rollInterval, maxSegmentBytes }, got ${describeValue(walOption)}`,
    )
  }
  if (wal !== undefined && o.autoCommitInterval !== undefined) {
    throw invalidOption(
      'autoCommitInterval',
      'has no effect with writeAheadLog: the receiver commits each block once it is in the log; remove it',
    )
  }
  if (wal === undefined && o.onDamagedWal !== undefined) {
    throw invalidOption('onDamagedWal', 'only applies with writeAheadLog: true')
  }
  const onDamagedWal = o.onDamagedWal ?? RECEIVER_DEFAULTS.onDamagedWal
  if (onDamagedWal !== 'fail' && onDamagedWal !== 'skip') {
    throw invalidOption('onDamagedWal', `must be 'fail' or 'skip', got ${describeValue(onDamagedWal)}`)
  }
  const startFrom = o.startingOffsets ?? RECEIVER_DEFAULTS.startFrom
  if (startFrom !== 'earliest' && startFrom !== 'latest') {
    throw invalidOption(
      'startingOffsets',
      `must be 'earliest' or 'latest' (where a partition without a committed group offset starts), got ${describeValue(startFrom)}`,
    )
  }
  const isolationLevel = o.isolationLevel ?? RECEIVER_DEFAULTS.isolationLevel
  if (isolationLevel !== 'read_committed' && isolationLevel !== 'read_uncommitted') {
    throw invalidOption(
      'isolationLevel',
      `must be 'read_committed' or 'read_uncommitted', got ${describeValue(isolationLevel)}`,
    )
  }
  const deserializers =
    o.deserializers === undefined ? {} : knownKeys(o.deserializers, 'deserializers', DESERIALIZER_KEYS)
  const receiverMaxRate = o.receiverMaxRate ?? 0
  if (typeof receiverMaxRate !== 'number' || !Number.isFinite(receiverMaxRate) || receiverMaxRate < 0) {
    throw invalidOption(
      'receiverMaxRate',
      `must be a non-negative number of records per second (0 = no limit), got ${describeValue(receiverMaxRate)}`,
    )
  }
  const groupInstanceId = nonEmptyString(o.groupInstanceId, 'groupInstanceId')
  const sessionTimeoutMs =
    integer(o.sessionTimeout, 'sessionTimeout', 1, MAX_TIMER_MS) ?? RECEIVER_DEFAULTS.sessionTimeoutMs
  const heartbeatIntervalMs =
    integer(o.heartbeatInterval, 'heartbeatInterval', 1, MAX_TIMER_MS) ??
    RECEIVER_DEFAULTS.heartbeatIntervalMs
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw invalidOption(
      'heartbeatInterval',
      `must be shorter than sessionTimeout (${sessionTimeoutMs} ms), got ${heartbeatIntervalMs}`,
    )
  }
  return {
    connection,
    topics: [...(topics as string[])],
    groupId,
    name: o.name as string | undefined,
    wal,
    blockIntervalMs:
      integer(o.blockInterval, 'blockInterval', 1, MAX_TIMER_MS) ?? RECEIVER_DEFAULTS.blockIntervalMs,
    blockQueueSize:
      integer(o.blockQueueSize, 'blockQueueSize', 1, 100_000) ?? RECEIVER_DEFAULTS.blockQueueSize,
    maxRate: receiverMaxRate === 0 ? Number.POSITIVE_INFINITY : receiverMaxRate,
    rates: normalizeRateControlOptions({
      ...(o.backpressure === undefined ? {} : { backpressure: o.backpressure as BackpressureOptions }),
    }),
    key: resolveDeserializer<K>(deserializers.key as Deserializers<K, V>['key'], 'deserializers.key'),
    value: resolveDeserializer<V>(deserializers.value as Deserializers<K, V>['value'], 'deserializers.value'),
    startFrom,
    isolationLevel,
    maxBytesPerFetch:
      integer(o.maxBytesPerFetch, 'maxBytesPerFetch', 1024, 2 ** 30) ?? RECEIVER_DEFAULTS.maxBytesPerFetch,
    autoCommitIntervalMs:
      integer(o.autoCommitInterval, 'autoCommitInterval', 1, MAX_TIMER_MS) ??
      RECEIVER_DEFAULTS.autoCommitIntervalMs,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    groupInstanceId,
    restartDelayMs:
      integer(o.restartDelay, 'restartDelay', 0, MAX_TIMER_MS) ?? RECEIVER_DEFAULTS.restartDelayMs,
    onDamagedWal,
  }
}

function knownKeys(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(path || 'options', `must be an object, got ${describeValue(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const option = path === '' ? key : `${path}.${key}`
      throw invalidOption(option, `is not a known option (known: ${known.join(', ')})`)
    }
  }
  return value as Record<string, unknown>
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of keys) if (o[key] !== undefined) out[key] = o[key]
  return out
}

function nonEmptyString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(option, `must be a non-empty string, got ${describeValue(value)}`)
  }
  return value
}

function integer(value: unknown, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(option, `must be an integer from ${min} to ${max}, got ${describeValue(value)}`)
  }
  return value
}
