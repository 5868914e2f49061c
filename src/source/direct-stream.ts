import type { JsonValue } from '../checkpoint/json-value.ts'
import type { OwnershipLease } from '../cluster/partition-ownership.ts'
import { SharedPartitions } from '../cluster/shared-partitions.ts'
import {
  checkSharing,
  createOwnership,
  type SharingOptions,
  sharingOptionFields,
} from '../cluster/sharing-options.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { booleanOption, nonEmptyString, optionsObject, parseOptions, withOwner } from '../core/options.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import type { PartitionOffset, TopicPartition } from '../kafka/types.ts'
import {
  type RateControlOptions,
  type RateControlSettings,
  rateControlOptionFields,
  rateControlSettings,
} from '../scheduler/rate-control-options.ts'
import { createRateController, type RateController } from '../scheduler/rate-controller.ts'
import type { BatchInfo, BatchRef } from '../stream/batch.ts'
import type { SourceProgress } from '../stream/batch-progress.ts'
import { InputDStream, type InputRecovery, type InputSlice } from '../stream/input-dstream.ts'
import type { SourcePosition } from '../stream/listener.ts'
import type { StreamingContext } from '../stream/streaming-context.ts'
import { checkReadSource, type KafkaReadOptions, readOptionFields, readSettings } from './create-rdd.ts'
import { planningDataLoss, rerunDataLoss } from './data-loss.ts'
import { planKafkaBatch } from './kafka-batch-planner.ts'
import { decodeKafkaPlan, encodeKafkaPlan, type KafkaPlan } from './kafka-plan.ts'
import type { KafkaReadSettings } from './kafka-rdd.ts'
import { KafkaSlice, type SliceReader } from './kafka-slice.ts'
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
    SharingOptions,
    RateControlOptions {
  /**
   * The input's name: the key of its positions in the checkpoint. Default `direct-kafka-<k>`,
   * k counting the unnamed direct streams of the context in the order they are created. Name
   * each input of a job whose inputs may change, so each keeps its positions.
   */
  readonly name?: string
  /**
   * Where to start when the checkpoint has no position — with `group` or `split`, when the
   * offset store has none for a partition. Default 'latest'.
   */
  readonly startingOffsets?: StartingOffsets
  /** Consumer group that `commitAsync` commits to, for lag monitoring tools. */
  readonly groupId?: string
  /**
   * When retention deleted records before the stream read them: fail (default) naming every
   * lost range, or (false) skip to the log start, count them in BatchInfo.lostRecords and
   * hand them to outputs as batch.lostRanges.
   */
  readonly failOnDataLoss?: boolean
}

const directStreamOptions = optionsObject(
  {
    ...readOptionFields,
    ...subscriptionOptionFields,
    ...rateControlOptionFields,
    ...sharingOptionFields,
    name: nonEmptyString,
    startingOffsets: startingOffsetsOption,
    groupId: nonEmptyString,
    failOnDataLoss: booleanOption,
  },
  (options, path) => {
    checkReadSource(options, path)
    checkSubscription(options, path)
    checkSharing(options, path)
  },
)

/**
 * The Kafka direct stream (Spark's DirectKafkaInputDStream): no receiver, no buffer. Each
 * batch it asks the cluster for the latest offsets (the last stable offset under
 * read_committed), limits the ranges by the rate settings, and hands the context a plan;
 * the batch's KafkaRDD reads exactly those ranges when an action runs.
 */
export class DirectKafkaInputDStream<K, V> extends InputDStream<KafkaRecord<K, V>> {
  readonly kind = 'kafka-direct'
  readonly #settings: KafkaReadSettings<K, V>
  readonly #discovery: PartitionDiscovery
  readonly #starting: ResolvedStartingOffsets
  readonly #rates: RateControlSettings
  readonly #rateController: RateController | undefined
  readonly #groupId: string | undefined
  readonly #failOnDataLoss: boolean
  readonly #sharing: SharingOptions
  readonly #logger: Logger
  /** When processes share the partitions: the lease and claims (created at open, from the client's connection). */
  #shared: SharedPartitions | undefined
  /** The lease the latest batch was planned under. */
  #lease: OwnershipLease | undefined
  /**
   * Next offset to read, per partition: the until-offset of its last planned range. Partitions
   * the subscription no longer covers stay here (parked) until it covers them again.
   */
  #positions = new Map<string, PartitionOffset>()
  #fresh = true
  #commitQueue: OffsetRange[] = []
  #committing: Promise<void> = Promise.resolve()
  #client: KafkaClient | undefined

  constructor(context: StreamingContext, options: DirectStreamOptions<K, V>) {
    const given = parseOptions(directStreamOptions, options, 'createDirectStream')
    const rates = withOwner('createDirectStream', () => rateControlSettings(given, context.batchInterval))
    // The stream's Kafka client logs (retries during an outage, recoveries) where the context logs.
    const settings = readSettings<K, V>(
      given.logger === undefined ? { ...given, logger: context.logger } : given,
    )
    const discovery = resolveDiscovery(given)
    // Registered with the context only once every option is known to be valid.
    super(context, { name: given.name, defaultPrefix: 'direct-kafka', owner: 'createDirectStream' })
    this.#settings = settings
    this.#discovery = discovery
    this.#starting = given.startingOffsets ?? { kind: 'latest' }
    this.#rates = rates
    this.#rateController = createRateController(rates, context.batchInterval)
    this.#groupId = given.groupId
    this.#failOnDataLoss = given.failOnDataLoss ?? true
    this.#sharing = { group: given.group, split: given.split, offsetStore: given.offsetStore }
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

  async open(recovery: InputRecovery): Promise<void> {
    this.#client = this.#settings.lease.acquire()
    const ownership = createOwnership(this.#sharing, this.#client.options, this.#logger)
    if (ownership !== undefined) {
      await this.#sharing.offsetStore!.start()
      this.#shared = new SharedPartitions(ownership, this.#sharing.offsetStore!, this.#logger)
      this.#restoreRateState(recovery)
      // Positions come from the offset store as partitions are claimed, never from a local checkpoint.
      const partitions = await this.#discovery.discover(this.#client)
      await this.#shared.start([...new Set(partitions.map((p) => p.topic))])
      this.#fresh = false
      return
    }
    if (recovery.lastPlan !== undefined) {
      const plan = this.#ownPlan(decodeKafkaPlan(recovery.lastPlan))
      for (const { range } of plan.ranges) this.#setPosition(range.topic, range.partition, range.untilOffset)
      for (const p of plan.parked) this.#setPosition(p.topic, p.partition, p.offset)
    }
    this.#restoreRateState(recovery)
    // A checkpoint decides the start; startingOffsets apply only to a fresh stream.
    this.#fresh = this.#positions.size === 0
    // Reaching the cluster now, even when the checkpoint decides the start, makes a wrong
    // password, an untrusted certificate or a missing topic fail start() instead of a batch.
    const partitions = await this.#discovery.discover(this.#client)
    if (this.#fresh) await this.#applyStartingOffsets(partitions)
  }

  position(): Omit<SourcePosition, 'input' | 'kind'> {
    const positions = [...this.#positions.values()]
    return {
      fresh: this.#fresh,
      description:
        this.#shared !== undefined && positions.length === 0
          ? `${this.#discovery.description}, shared by ${this.#shared.description}: positions from the offset store of app '${this.#shared.store.app}'`
          : positions.length === 0
            ? `${this.#discovery.description}: no partition yet`
            : positions.map((p) => `${p.topic}-${p.partition} @ ${p.offset}`).join(', '),
      offsets: positions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: p.offset.toString(),
      })),
    }
  }

  async plan(batch: BatchRef): Promise<JsonValue> {
    const client = this.#requireClient()
    const discovered = await this.#discovery.discover(client)
    if (this.#shared === undefined) return this.#planPartitions(batch, discovered)
    const turn = await this.#shared.begin(discovered, (partitions) => this.#startOffsetsOf(partitions))
    try {
      this.#lease = turn.lease
      this.#shared.topicsChanged([...new Set(discovered.map((p) => p.topic))], partitionCounts(discovered))
      // Only the partitions owned now have positions: the others' go with their new owners.
      const positions = new Map<string, PartitionOffset>()
      for (const p of turn.partitions) {
        const key = partitionKey(p.topic, p.partition)
        const offset = turn.claimed.get(key) ?? this.#positions.get(key)?.offset
        if (offset !== undefined) positions.set(key, { topic: p.topic, partition: p.partition, offset })
      }
      this.#positions = positions
      return await this.#planPartitions(batch, turn.partitions, turn.lease.owner)
    } catch (error) {
      this.#shared.end()
      throw error
    }
  }

  /** Plans the batch over `partitions` (sorted) from the positions, limited by rate control. */
  async #planPartitions(
    batch: BatchRef,
    partitions: readonly TopicPartition[],
    owner?: PartitionOwner,
  ): Promise<JsonValue> {
    const client = this.#requireClient()
    const latestSpec = this.#settings.isolationLevel === 'read_committed' ? 'lastStable' : 'latest'
    const [starts, ends] = await Promise.all([
      client.listOffsets(partitions, 'earliest'),
      client.listOffsets(partitions, latestSpec),
    ])
    const planned = planKafkaBatch({
      partitions,
      logStarts: starts.map((o) => o.offset),
      logEnds: ends.map((o) => o.offset),
      positions: this.#positions,
      owns: (topic, partition) => this.#discovery.owns(topic, partition),
      limits: {
        estimatedRate: this.#rateController?.latestRate,
        maxRatePerPartition: this.#rates.maxRatePerPartition,
        minRatePerPartition: this.#rates.minRatePerPartition,
        batchIntervalMs: this.context.batchInterval,
      },
    })
    if (planned.problems.length > 0) {
      if (this.#failOnDataLoss) throw planningDataLoss(batch.id, planned.problems)
      this.#logger.warn(
        'records were deleted before the stream read them, or a log ends before its position: going on',
        {
          batchId: batch.id,
          lost: planned.plan.lost.map(String),
          shrunk: planned.problems.filter((p) => p.kind === 'shrunk').map((p) => `${p.topic}-${p.partition}`),
        },
      )
    }
    for (const p of planned.forgotten) {
      this.#logger.info('a partition of the subscription no longer exists; forgetting its position', {
        partition: `${p.topic}-${p.partition}`,
        offset: p.offset,
      })
    }
    this.#positions = planned.positions
    return encodeKafkaPlan(owner === undefined ? planned.plan : { ...planned.plan, owner })
  }

  slice(plan: JsonValue, batch: BatchRef): KafkaSlice<K, V> {
    const decoded = this.#ownPlan(decodeKafkaPlan(plan))
    const lease = this.#lease
    const signal = lease !== undefined && sameOwner(decoded.owner, lease.owner) ? lease.signal : undefined
    return new KafkaSlice(this.#reader(), decoded, this.#settings, this.context.runner, batch.id, signal)
  }

  /**
   * Before a batch planned by an earlier run is read again: retention may have deleted part
   * of its ranges since. By default that fails the batch saying how to go on; with
   * failOnDataLoss: false the batch reads what is left and reports the rest as lost.
   */
  override async revalidate(
    slice: InputSlice<KafkaRecord<K, V>>,
    batch: BatchRef,
  ): Promise<InputSlice<KafkaRecord<K, V>>> {
    const { plan } = slice as KafkaSlice<K, V>
    if (this.#shared !== undefined) {
      // Whoever owns these partitions now resumes them from the offset store (this process
      // too, once it claims them again): the batch of an earlier run has nothing left to do.
      this.#logger.info('the pending batch of an earlier run is left to the offset store', {
        batchId: batch.id,
      })
      return new KafkaSlice(
        this.#reader(),
        withoutRanges(plan),
        this.#settings,
        this.context.runner,
        batch.id,
      )
    }
    const reading = plan.ranges.filter(({ range }) => !range.isEmpty)
    if (reading.length === 0) return slice
    const starts = await this.#requireClient().listOffsets(
      reading.map(({ range }) => ({ topic: range.topic, partition: range.partition })),
      'earliest',
    )
    const logStartOf = new Map(starts.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
    const deleted = reading
      .map(({ range }) => ({ range, logStart: logStartOf.get(partitionKey(range.topic, range.partition))! }))
      .filter(({ range, logStart }) => logStart > range.fromOffset)
    if (deleted.length === 0) return slice
    if (this.#failOnDataLoss) throw rerunDataLoss(batch.id, deleted)
    const revised = withDeleted(
      plan,
      new Map(deleted.map(({ range, logStart }) => [partitionKey(range.topic, range.partition), logStart])),
    )
    this.#logger.warn('retention deleted part of a batch before it was re-run; it reads what is left', {
      batchId: batch.id,
      lost: revised.lost.map(String),
    })
    return new KafkaSlice(this.#reader(), revised, this.#settings, this.context.runner, batch.id)
  }

  /**
   * A batch of a stream whose partitions other processes share was refused (a rebalance took
   * partitions away, a newer owner claimed them): the batch runs again without its ranges —
   * nothing of it was written — and every partition this process still owns is claimed again,
   * so the next batch reads it from the stored offset.
   */
  override async withdraw(
    slice: InputSlice<KafkaRecord<K, V>>,
    error: unknown,
    batch: BatchRef,
  ): Promise<InputSlice<KafkaRecord<K, V>> | undefined> {
    const shared = this.#shared
    const lease = this.#lease
    const { plan } = slice as KafkaSlice<K, V>
    if (shared === undefined || lease === undefined || plan.ranges.length === 0) return undefined
    if (
      !(await shared.withdraw(
        error,
        lease,
        plan.ranges.map(({ range }) => range),
      ))
    )
      return undefined
    this.#logger.info('the batch goes on without its ranges; they are read again by their owners', {
      batchId: batch.id,
      ranges: plan.ranges.map(({ range }) => String(range)),
    })
    return new KafkaSlice(this.#reader(), withoutRanges(plan), this.#settings, this.context.runner, batch.id)
  }

  override sharesPartitions(): string | undefined {
    return this.#shared?.description ?? describeSharing(this.#sharing)
  }

  override saveState(): JsonValue | undefined {
    return this.#rateController ? (this.#rateController.exportState() as unknown as JsonValue) : undefined
  }

  override onBatchCompleted(info: BatchInfo, own: SourceProgress | undefined): void {
    this.#shared?.end()
    // As in Spark, the rate is what the batch's jobs processed per second of their own
    // running time: planning (the ListOffsets round trips) is not processing.
    const { planning, outputs, commit } = info.progress.durationsMs
    this.#rateController?.onBatchCompleted({
      processingEndTime: info.startedAt + info.processingTime,
      numRecords: own?.numInputRecords ?? 0,
      processingDelay: outputs + commit,
      schedulingDelay: info.schedulingDelay + planning,
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
    await this.#shared?.close()
    await this.#committing
    if (this.#client) {
      this.#client = undefined
      await this.#settings.lease.release()
    }
  }

  #reader(): SliceReader {
    return { name: this.name, kind: this.kind, app: this.context.appName, logger: this.#logger }
  }

  #requireClient(): KafkaClient {
    if (!this.#client) throw new SluiceError(ErrorCodes.CLOSED, `input '${this.name}' is not open`)
    return this.#client
  }

  #restoreRateState(recovery: InputRecovery): void {
    if (recovery.state === undefined || !this.#rateController) return
    try {
      this.#rateController.restoreState(recovery.state)
    } catch (error) {
      this.#logger.warn('ignoring unreadable rate-control state from the checkpoint', { error })
    }
  }

  /** Where `partitions` start by `startingOffsets`, for partitions the offset store has nothing for. */
  async #startOffsetsOf(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const offsets = await this.#startingOffsets(partitions)
    return new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
  }

  #setPosition(topic: string, partition: number, offset: bigint): void {
    this.#positions.set(partitionKey(topic, partition), { topic, partition, offset })
  }

  /**
   * A format-1 checkpoint of a job with several inputs logged every input's ranges together;
   * this input's are those of its subscription.
   */
  #ownPlan(plan: KafkaPlan): KafkaPlan {
    if (!plan.v1SharedRanges) return plan
    const owns = (r: { topic: string; partition: number }) => this.#discovery.owns(r.topic, r.partition)
    return { ...plan, ranges: plan.ranges.filter(({ range }) => owns(range)), v1SharedRanges: false }
  }

  async #applyStartingOffsets(partitions: readonly TopicPartition[]): Promise<void> {
    for (const o of await this.#startingOffsets(partitions)) this.#setPosition(o.topic, o.partition, o.offset)
  }

  async #startingOffsets(partitions: readonly TopicPartition[]): Promise<readonly PartitionOffset[]> {
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
    return offsets
  }
}

/**
 * The plan with the deleted start of some ranges moved into `lost`: a partition whose log now
 * starts at `logStart` reads `[logStart, until)` (empty if that is past `until`), and its lost
 * range grows to end where the reading begins.
 */
function withDeleted(plan: KafkaPlan, logStarts: ReadonlyMap<string, bigint>): KafkaPlan {
  const lost = new Map(plan.lost.map((range) => [partitionKey(range.topic, range.partition), range]))
  const ranges = plan.ranges.map((planned) => {
    const { range } = planned
    const key = partitionKey(range.topic, range.partition)
    const logStart = logStarts.get(key)
    if (logStart === undefined) return planned
    const from = earlierOf(logStart, range.untilOffset)
    const before = lost.get(key)
    lost.set(
      key,
      OffsetRange.create(range.topic, range.partition, before?.fromOffset ?? range.fromOffset, from),
    )
    return { ...planned, range: OffsetRange.create(range.topic, range.partition, from, range.untilOffset) }
  })
  return { ...plan, ranges, lost: [...lost.values()] }
}

/** The plan with nothing to read: what a withdrawn or handed-over batch runs with. */
function withoutRanges(plan: KafkaPlan): KafkaPlan {
  return { ...plan, ranges: [], lost: [] }
}

function sameOwner(a: PartitionOwner | undefined, b: PartitionOwner): boolean {
  return (
    a !== undefined && a.generation === b.generation && a.memberId === b.memberId && a.groupId === b.groupId
  )
}

function partitionCounts(partitions: readonly TopicPartition[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const p of partitions) counts.set(p.topic, Math.max(counts.get(p.topic) ?? 0, p.partition + 1))
  return counts
}

/** How the options share the partitions, before the stream is open (for start-time refusals). */
function describeSharing(sharing: SharingOptions): string | undefined {
  if (sharing.group !== undefined) return `consumer group '${sharing.group.id}'`
  if (sharing.split !== undefined)
    return `static split, instance ${sharing.split.instance} of ${sharing.split.of}`
  return undefined
}

function earlierOf(a: bigint, b: bigint): bigint {
  if (a < b) return a
  return b
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
