import type { JsonValue } from '../checkpoint/json-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { booleanOption, nonEmptyString, optionsObject, parseOptions, withOwner } from '../core/options.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import type { PartitionOffset, TopicPartition } from '../kafka/types.ts'
import type { Rdd } from '../rdd/rdd.ts'
import { planBatchRanges } from '../scheduler/batch-size-limit.ts'
import {
  type RateControlOptions,
  type RateControlSettings,
  rateControlOptionFields,
  rateControlSettings,
} from '../scheduler/rate-control-options.ts'
import { createRateController, type RateController } from '../scheduler/rate-controller.ts'
import type { BatchInfo, BatchRef } from '../stream/batch.ts'
import { type InputBatch, InputDStream, type InputPlan, type InputRecovery } from '../stream/input-dstream.ts'
import type { StreamingContext } from '../stream/streaming-context.ts'
import { checkReadSource, type KafkaReadOptions, readOptionFields, readSettings } from './create-rdd.ts'
import { KafkaRDD, type KafkaReadSettings } from './kafka-rdd.ts'
import {
  checkSubscription,
  type PartitionDiscovery,
  resolveDiscovery,
  type SubscriptionOptions,
  subscriptionOptionFields,
} from './partition-discovery.ts'
import {
  type ResolvedStartingOffsets,
  type StartingOffsets,
  startingOffsetsOption,
} from './starting-offsets.ts'

/** Options of `createDirectStream`: the cluster, the topics, where to start, rate limits and decoding. */
export interface DirectStreamOptions<K, V>
  extends KafkaReadOptions<K, V>,
    SubscriptionOptions,
    RateControlOptions {
  /** Where to start when the checkpoint has no position. Default 'latest'. */
  readonly startingOffsets?: StartingOffsets
  /** Consumer group that `commitAsync` commits to, for lag monitoring tools. */
  readonly groupId?: string
  /**
   * When retention deleted records before the stream read them: fail (default) naming the
   * lost range, or (false) skip to the log start, warn and count them in BatchInfo.lostRecords.
   */
  readonly failOnDataLoss?: boolean
}

let nextDirectStreamId = 0

const directStreamOptions = optionsObject(
  {
    ...readOptionFields,
    ...subscriptionOptionFields,
    ...rateControlOptionFields,
    startingOffsets: startingOffsetsOption,
    groupId: nonEmptyString,
    failOnDataLoss: booleanOption,
  },
  (options, path) => {
    checkReadSource(options, path)
    checkSubscription(options, path)
  },
)

/**
 * The Kafka direct stream (Spark's DirectKafkaInputDStream): no receiver, no buffer. Each
 * batch it asks the cluster for the latest offsets (the last stable offset under
 * read_committed), limits the ranges by the rate settings, and hands the context a plan;
 * the batch's KafkaRDD reads exactly those ranges when an action runs.
 */
export class DirectKafkaInputDStream<K, V> extends InputDStream<KafkaRecord<K, V>> {
  readonly #settings: KafkaReadSettings<K, V>
  readonly #discovery: PartitionDiscovery
  readonly #starting: ResolvedStartingOffsets
  readonly #rates: RateControlSettings
  readonly #rateController: RateController | undefined
  readonly #groupId: string | undefined
  readonly #failOnDataLoss: boolean
  readonly #logger: Logger
  /** Next offset to read, per partition: the until-offset of the last planned range. */
  readonly #positions = new Map<string, PartitionOffset>()
  #commitQueue: OffsetRange[] = []
  #committing: Promise<void> = Promise.resolve()
  #client: KafkaClient | undefined
  #positionsRestored = false

  constructor(context: StreamingContext, options: DirectStreamOptions<K, V>) {
    super(context, `direct-kafka-${nextDirectStreamId++}`)
    const given = parseOptions(directStreamOptions, options, 'createDirectStream')
    this.#rates = withOwner('createDirectStream', () => rateControlSettings(given, context.batchInterval))
    // The stream's Kafka client logs (retries during an outage, recoveries) where the context logs.
    this.#settings = readSettings(given.logger === undefined ? { ...given, logger: context.logger } : given)
    this.#discovery = resolveDiscovery(given)
    this.#starting = given.startingOffsets ?? { kind: 'latest' }
    this.#rateController = createRateController(this.#rates, context.batchInterval)
    this.#groupId = given.groupId
    this.#failOnDataLoss = given.failOnDataLoss ?? true
    this.#logger = context.logger.child({ input: this.name })
  }

  /** The current stream-wide rate limit from backpressure, in records per second. */
  get rateLimit(): number | undefined {
    return this.#rateController?.latestRate
  }

  /**
   * Queues offsets to commit to the consumer group `groupId` once the current batch's
   * outputs have succeeded. Only lag monitoring reads them: recovery uses the checkpoint.
   */
  commitAsync(ranges: readonly OffsetRange[]): void {
    if (this.#groupId === undefined) {
      throw invalidOption('groupId', 'is required to commitAsync: set it on createDirectStream')
    }
    this.#commitQueue.push(...ranges)
  }

  owns(range: OffsetRange): boolean {
    return this.#discovery.owns(range.topic, range.partition)
  }

  async open(recovery: InputRecovery): Promise<void> {
    this.#client = this.#settings.lease.acquire()
    for (const range of recovery.lastRanges ?? []) {
      this.#positions.set(partitionKey(range.topic, range.partition), {
        topic: range.topic,
        partition: range.partition,
        offset: range.untilOffset,
      })
    }
    // A checkpoint decides the start; startingOffsets apply only to a fresh stream.
    this.#positionsRestored = (recovery.lastRanges?.length ?? 0) > 0
    if (recovery.state !== undefined && this.#rateController) {
      try {
        this.#rateController.restoreState(recovery.state)
      } catch (error) {
        this.#logger.warn('ignoring unreadable rate-control state from the checkpoint', { error })
      }
    }
    // Reaching the cluster now, even when the checkpoint decides the start, makes a wrong
    // password, an untrusted certificate or a missing topic fail start() instead of a batch.
    const partitions = await this.#discovery.discover(this.#client)
    if (!this.#positionsRestored) await this.#applyStartingOffsets(partitions)
  }

  async plan(batch: BatchRef): Promise<InputPlan> {
    const client = this.#requireClient()
    const partitions = await this.#discovery.discover(client)
    const latestSpec = this.#settings.isolationLevel === 'read_committed' ? 'lastStable' : 'latest'
    const [starts, ends] = await Promise.all([
      client.listOffsets(partitions, 'earliest'),
      client.listOffsets(partitions, latestSpec),
    ])
    let lostRecords = 0
    const positions = partitions.map((p, i) => {
      const key = partitionKey(p.topic, p.partition)
      const logStart = starts[i]!.offset
      const logEnd = ends[i]!.offset
      // Partitions that appear while running start at the log start (new topic or partition).
      let from = this.#positions.get(key)?.offset ?? logStart
      if (from < logStart) {
        lostRecords += Number(logStart - from)
        from = this.#onDataLoss(batch, p, from, logStart)
      }
      if (from > logEnd) from = this.#onLogShrunk(batch, p, from, logEnd)
      return { topic: p.topic, partition: p.partition, fromOffset: from, latestOffset: logEnd }
    })
    const planned = planBatchRanges(positions, {
      estimatedRate: this.#rateController?.latestRate,
      maxRatePerPartition: this.#rates.maxRatePerPartition,
      minRatePerPartition: this.#rates.minRatePerPartition,
      batchIntervalMs: this.context.batchInterval,
    })
    this.#positions.clear()
    const ranges = planned.map((r) => {
      this.#positions.set(partitionKey(r.topic, r.partition), {
        topic: r.topic,
        partition: r.partition,
        offset: r.untilOffset,
      })
      return OffsetRange.create(r.topic, r.partition, r.fromOffset, r.untilOffset)
    })
    return { ranges, lostRecords }
  }

  rddOf(batch: InputBatch): Rdd<KafkaRecord<K, V>> {
    return new KafkaRDD({
      ranges: batch.plan.ranges,
      settings: this.#settings,
      runner: this.context.runner,
      rangesKnownValid: true,
      signal: batch.signal,
    })
  }

  override saveState(): JsonValue | undefined {
    return this.#rateController ? (this.#rateController.exportState() as unknown as JsonValue) : undefined
  }

  override onBatchCompleted(info: BatchInfo): void {
    this.#rateController?.onBatchCompleted({
      processingEndTime: info.startedAt + info.processingTime,
      numRecords: info.records,
      processingDelay: info.processingTime,
      schedulingDelay: info.schedulingDelay,
    })
    if (this.#commitQueue.length > 0 && this.#groupId !== undefined) {
      const ranges = this.#commitQueue
      this.#commitQueue = []
      const groupId = this.#groupId
      const client = this.#requireClient()
      this.#committing = this.#committing
        .then(() => client.commitGroupOffsets(groupId, latestUntilOffsets(ranges)))
        .catch((error: unknown) => {
          this.#logger.warn('committing offsets to the consumer group failed (monitoring only)', {
            groupId,
            error,
          })
        })
    }
  }

  async close(): Promise<void> {
    await this.#committing
    if (this.#client) {
      this.#client = undefined
      await this.#settings.lease.release()
    }
  }

  #requireClient(): KafkaClient {
    if (!this.#client) throw new SluiceError(ErrorCodes.CLOSED, `input '${this.name}' is not open`)
    return this.#client
  }

  async #applyStartingOffsets(partitions: readonly TopicPartition[]): Promise<void> {
    const client = this.#requireClient()
    const starting = this.#starting
    let offsets: readonly PartitionOffset[]
    if (starting.kind === 'specific') {
      const earliest = await client.listOffsets(partitions, 'earliest')
      offsets = earliest.map((p) => ({
        ...p,
        offset: starting.offsets.get(partitionKey(p.topic, p.partition)) ?? p.offset,
      }))
    } else if (starting.kind === 'timestamp') {
      offsets = await client.listOffsets(partitions, { timestamp: starting.timestamp })
    } else {
      const spec =
        starting.kind === 'earliest'
          ? 'earliest'
          : this.#settings.isolationLevel === 'read_committed'
            ? 'lastStable'
            : 'latest'
      offsets = await client.listOffsets(partitions, spec)
    }
    for (const o of offsets) this.#positions.set(partitionKey(o.topic, o.partition), o)
  }

  #onDataLoss(batch: BatchRef, p: TopicPartition, from: bigint, logStart: bigint): bigint {
    const lost = `${p.topic}-${p.partition} [${from}, ${logStart})`
    if (this.#failOnDataLoss) {
      throw new SluiceError(
        ErrorCodes.OFFSET_OUT_OF_RANGE,
        `planning batch ${batch.id}: records ${lost} were deleted (retention) before the stream read them. ` +
          'Set failOnDataLoss: false to skip to the log start and count them as lost.',
        {
          details: { batchId: batch.id, topic: p.topic, partition: p.partition, fromOffset: from, logStart },
        },
      )
    }
    this.#logger.warn('records were deleted before the stream read them; skipping to the log start', {
      batchId: batch.id,
      lost,
      count: logStart - from,
    })
    return logStart
  }

  #onLogShrunk(batch: BatchRef, p: TopicPartition, from: bigint, logEnd: bigint): bigint {
    if (this.#failOnDataLoss) {
      throw new SluiceError(
        ErrorCodes.OFFSET_OUT_OF_RANGE,
        `planning batch ${batch.id}: ${p.topic}-${p.partition} ends at ${logEnd}, before the stream's position ${from} ` +
          '(was the topic deleted and re-created, or the log truncated?). Set failOnDataLoss: false to continue from the log end.',
        { details: { batchId: batch.id, topic: p.topic, partition: p.partition, fromOffset: from, logEnd } },
      )
    }
    this.#logger.warn('the log ends before the stream position; continuing from the log end', {
      batchId: batch.id,
      partition: `${p.topic}-${p.partition}`,
      from,
      logEnd,
    })
    return logEnd
  }
}

/** Group offsets to commit: the furthest until-offset queued per partition. */
function latestUntilOffsets(ranges: readonly OffsetRange[]): PartitionOffset[] {
  const furthest = new Map<string, PartitionOffset>()
  for (const r of ranges) {
    const key = partitionKey(r.topic, r.partition)
    const current = furthest.get(key)
    if (!current || r.untilOffset > current.offset) {
      furthest.set(key, { topic: r.topic, partition: r.partition, offset: r.untilOffset })
    }
  }
  return [...furthest.values()]
}

/**
 * A stream of Kafka records whose batches are offset ranges — Spark's
 * `KafkaUtils.createDirectStream`. Offsets are kept by the context's checkpoint.
 */
export function createDirectStream<K = Buffer, V = Buffer>(
  context: StreamingContext,
  options: DirectStreamOptions<K, V>,
): DirectKafkaInputDStream<K, V> {
  return new DirectKafkaInputDStream<K, V>(context, options)
}
