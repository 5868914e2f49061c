import { invalidOption } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { KafkaClient } from '../kafka/client.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import { type KafkaClientOptions, resolveClientOptions } from '../kafka/options.ts'
import type { IsolationLevel } from '../kafka/types.ts'
import { TaskRunner } from '../rdd/task-runner.ts'
import { ClientLease } from './client-lease.ts'
import { type Deserializers, resolveDeserializer } from './deserializers.ts'
import type { KafkaReadSettings } from './kafka-rdd.ts'
import { KafkaRDD } from './kafka-rdd.ts'

/** Options shared by createRDD and createDirectStream for reading Kafka. */
export interface KafkaReadOptions<K, V> extends Partial<Omit<KafkaClientOptions, 'logger'>> {
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
  readonly logger?: Logger
}

export interface CreateRddOptions<K, V> extends KafkaReadOptions<K, V> {
  /** Partition tasks running at once (each holds up to two fetches). Default 4. */
  readonly taskConcurrency?: number
  /** Attempts per task before the action fails. Default 4. */
  readonly maxTaskAttempts?: number
}

export const defaultMaxBytesPerFetch = 512 * 1024

/** Validates read options once and builds the settings every KafkaRDD of a source shares. */
export function resolveReadSettings<K, V>(
  options: KafkaReadOptions<K, V>,
  lease?: ClientLease,
): KafkaReadSettings<K, V> {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'must be an object')
  const isolationLevel = options.isolationLevel ?? 'read_committed'
  if (isolationLevel !== 'read_committed' && isolationLevel !== 'read_uncommitted') {
    throw invalidOption(
      'isolationLevel',
      `must be 'read_committed' or 'read_uncommitted', got ${JSON.stringify(isolationLevel)}`,
    )
  }
  const maxBytesPerFetch = options.maxBytesPerFetch ?? defaultMaxBytesPerFetch
  if (!Number.isInteger(maxBytesPerFetch) || maxBytesPerFetch < 1024) {
    throw invalidOption(
      'maxBytesPerFetch',
      `must be an integer of at least 1024 bytes, got ${String(maxBytesPerFetch)}`,
    )
  }
  const allow = options.allowNonConsecutiveOffsets
  if (allow !== undefined && typeof allow !== 'boolean') {
    throw invalidOption('allowNonConsecutiveOffsets', `must be a boolean, got ${JSON.stringify(allow)}`)
  }
  const checkCrcs = options.checkCrcs ?? true
  if (typeof checkCrcs !== 'boolean') {
    throw invalidOption('checkCrcs', `must be a boolean, got ${JSON.stringify(checkCrcs)}`)
  }
  const key = resolveDeserializer<K>(options.deserializers?.key, 'deserializers.key')
  const value = resolveDeserializer<V>(options.deserializers?.value, 'deserializers.value')
  return {
    lease: lease ?? leaseFor(options),
    key,
    value,
    isolationLevel,
    maxBytesPerFetch,
    checkCrcs,
    allowNonConsecutiveOffsets: allow ?? 'auto',
  }
}

function leaseFor<K, V>(options: KafkaReadOptions<K, V>): ClientLease {
  if (options.client !== undefined) {
    if (!(options.client instanceof KafkaClient)) throw invalidOption('client', 'must be a KafkaClient')
    return ClientLease.borrow(options.client)
  }
  const {
    client: _c,
    deserializers: _d,
    isolationLevel: _i,
    maxBytesPerFetch: _m,
    allowNonConsecutiveOffsets: _a,
    checkCrcs: _cc,
    ...clientOptions
  } = options
  if (clientOptions.brokers === undefined) throw invalidOption('brokers', "is required (or pass 'client')")
  const connection = clientOptions as KafkaClientOptions
  // Validate the connection options now, at construction, not at the first action.
  resolveClientOptions(connection)
  return ClientLease.own(() => new KafkaClient(connection))
}

/**
 * A batch job over explicit Kafka offset ranges — Spark's `KafkaUtils.createRDD`. Returns at
 * once; the ranges are checked against the log and read when an action runs.
 */
export function createRDD<K = Buffer, V = Buffer>(
  options: CreateRddOptions<K, V>,
  ranges: readonly OffsetRange[],
): KafkaRDD<K, V> {
  if (!Array.isArray(ranges) || ranges.some((r) => !(r instanceof OffsetRange))) {
    throw invalidOption('ranges', 'must be an array of OffsetRange (use OffsetRange.create)')
  }
  const { taskConcurrency, maxTaskAttempts, ...readOptions } = options
  const settings = resolveReadSettings(readOptions)
  const runner =
    taskConcurrency === undefined && maxTaskAttempts === undefined
      ? undefined
      : new TaskRunner({
          ...(taskConcurrency === undefined ? {} : { concurrency: taskConcurrency }),
          ...(maxTaskAttempts === undefined ? {} : { maxAttempts: maxTaskAttempts }),
          ...(options.logger ? { logger: options.logger } : {}),
        })
  return new KafkaRDD({ ranges, settings, ...(runner ? { runner } : {}) })
}
