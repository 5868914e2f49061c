import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { JsonValue } from '../../checkpoint/json-value.ts'
import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import { partitionKey } from '../../core/partition-key.ts'
import { KafkaClient } from '../../kafka/client.ts'
import type { KafkaRecord } from '../../kafka/records.ts'
import type { PartitionOffset } from '../../kafka/types.ts'
import { createRateController, type RateController } from '../../scheduler/rate-controller.ts'
import type { BatchInfo, BatchRef } from '../../stream/batch.ts'
import type { SourceProgress } from '../../stream/batch-progress.ts'
import { InputDStream, type InputRecovery, type InputSlice } from '../../stream/input-dstream.ts'
import type { SourcePosition } from '../../stream/listener.ts'
import type { StreamingContext } from '../../stream/streaming-context.ts'
import { ClientLease } from '../client-lease.ts'
import { UndecodableRecords } from '../undecodable-records.ts'
import { MemoryBlockHandler, type ReceivedBlockHandler, WalBlockHandler } from './block-handler.ts'
import type { ReceivedBlock } from './received-block.ts'
import { ReceivedBlockTracker } from './received-block-tracker.ts'
import {
  type ReceiverStreamOptions,
  type ResolvedReceiverSettings,
  resolveReceiverOptions,
} from './receiver-options.ts'
import {
  advanceAccountedUntil,
  decodeReceiverPlan,
  decodeReceiverState,
  encodeReceiverPlan,
  encodeReceiverState,
  type ReceiverPlan,
} from './receiver-plan.ts'
import { ReceiverSlice } from './receiver-slice.ts'
import { ReceiverSupervisor } from './receiver-supervisor.ts'
import {
  accountedAfterStart,
  accountedUntilOf,
  NOTHING_TO_REPORT,
  type RecoveryReport,
  reliableRecovery,
  unreliableRecovery,
} from './recovery-report.ts'
import { WalDamageLedger } from './wal-damage.ts'
import { WriteAheadLog } from './write-ahead-log.ts'

/** What a receiver stream holds right now, for monitoring and benchmarks. */
export interface ReceiverStats {
  /** Records the receiver took in since start. */
  readonly receivedRecords: number
  /** Records received but not yet cut into a block. */
  readonly bufferedRecords: number
  /** Blocks stored and not yet allocated to a batch. */
  readonly unallocatedBlocks: number
  /** Blocks and bytes held in memory (allocated or not, until their batches are released). */
  readonly memoryBlocks: number
  readonly memoryBytes: number
  /** Bytes appended to the write-ahead logs since start (received data and tracker events). */
  readonly walBytesWritten: number
  /** Times the consumer failed and was started again. */
  readonly restarts: number
}

interface Opened {
  readonly tracker: ReceivedBlockTracker
  readonly handler: ReceivedBlockHandler
  readonly trackerLog: WriteAheadLog | undefined
  readonly damage: WalDamageLedger
  readonly supervisor: ReceiverSupervisor
}

/**
 * A Kafka input through a receiver — Spark's `KafkaUtils.createStream`, the approach the
 * direct stream replaced, built to show why. A consumer-group member runs in the job's
 * process and reads continuously; every `blockInterval` what it read becomes a block, kept
 * in memory and, in reliable mode, appended to a write-ahead log in the checkpoint before its
 * offsets are committed to the group. Each batch takes the blocks cut up to its time.
 *
 * Guarantees: with the write-ahead log, nothing received is lost, and records logged but not
 * yet committed when the process dies are delivered again by Kafka and processed twice
 * (at-least-once; `recovery` says how many at each start). Without it, the consumer
 * auto-commits what it fetched, and whatever the process held unprocessed when it died is
 * lost (counted in `recovery` and in the batches' `lostRecords`). Memory holds every block
 * not yet processed: it grows while processing is slower than input.
 */
export class ReceiverInputDStream<K, V> extends InputDStream<KafkaRecord<K, V>> {
  readonly kind = 'kafka-receiver'
  readonly #settings: ResolvedReceiverSettings<K, V>
  readonly #rateController: RateController | undefined
  readonly #logger: Logger
  readonly #receiverId = randomBytes(4).toString('hex')
  /** A client for dead letters, opened when a batch has some to send and closed once they are sent. */
  readonly #deadLetterLease: ClientLease
  #opened: Opened | undefined
  #closed = false
  #accountedUntil = new Map<string, PartitionOffset>()
  #committedAtStart: PartitionOffset[] = []
  #report: RecoveryReport = NOTHING_TO_REPORT
  /**
   * Records this start found lost, counted by the first batch planned: its plan carries the
   * count, and its soft state the accounting moved past them, in one offset-log entry.
   */
  #lossToReport = 0
  #replayedBatchId: number | undefined
  #fresh = true

  constructor(context: StreamingContext, options: ReceiverStreamOptions<K, V>) {
    const settings = resolveReceiverOptions(options, context)
    // Registered with the context only once every option is known to be valid.
    super(context, { name: settings.name, defaultPrefix: 'kafka-receiver', owner: 'createReceiverStream' })
    this.#settings = settings
    this.#rateController = createRateController(settings.rates, context.batchInterval)
    this.#logger = context.logger.child({ input: this.name })
    this.#deadLetterLease = ClientLease.own(() => new KafkaClient({ ...settings.connection }))
  }

  /** Identifies this run's receiver: every block it cuts carries it. */
  get receiverId(): string {
    return this.#receiverId
  }

  /** What the last start found: records Kafka will deliver again, and records lost. */
  get recovery(): RecoveryReport {
    return this.#report
  }

  /** The rate limit in force, in records per second (undefined: none). */
  get rateLimit(): number | undefined {
    const rate = this.#opened?.supervisor.rate
    return rate === undefined || rate === Number.POSITIVE_INFINITY ? undefined : rate
  }

  get stats(): ReceiverStats {
    const opened = this.#opened
    const supervisor = opened?.supervisor.stats
    const memory = opened?.handler.memory
    return {
      receivedRecords: supervisor?.records ?? 0,
      bufferedRecords: supervisor?.bufferedRecords ?? 0,
      unallocatedBlocks: opened?.tracker.unallocated.length ?? 0,
      memoryBlocks: memory?.blocks ?? 0,
      memoryBytes: memory?.bytes ?? 0,
      walBytesWritten: (opened?.handler.bytesLogged ?? 0) + (opened?.trackerLog?.bytesWritten ?? 0),
      restarts: supervisor?.restarts ?? 0,
    }
  }

  async open(recovery: InputRecovery): Promise<void> {
    const settings = this.#settings
    const lastPlan =
      recovery.lastPlan === undefined
        ? undefined
        : decodeReceiverPlan(recovery.lastPlan, `the checkpointed plan of receiver stream '${this.name}'`)
    const state =
      recovery.state === undefined
        ? undefined
        : decodeReceiverState(recovery.state, `the checkpointed state of receiver stream '${this.name}'`)
    if (state?.rate !== undefined && this.#rateController) {
      try {
        this.#rateController.restoreState(state.rate)
      } catch (error) {
        this.#logger.warn('ignoring unreadable rate-control state from the checkpoint', { error })
      }
    }
    this.#fresh = lastPlan === undefined && state === undefined
    for (const p of state?.accountedUntil ?? [])
      this.#accountedUntil.set(partitionKey(p.topic, p.partition), p)
    const pending = recovery.lastBatch !== undefined && !recovery.lastBatch.committed
    if (pending) this.#replayedBatchId = recovery.lastBatch!.id
    const pendingBlocks = pending ? (lastPlan?.blocks ?? []) : []
    const damage = new WalDamageLedger(settings.onDamagedWal, this.#logger, this.name)
    const { tracker, handler, trackerLog, highestLoggedBlockId } = await this.#openStores(lastPlan, damage)
    const { committed, resumeAt } = await this.#readGroupPositions()
    this.#committedAtStart = committed
    if (settings.wal !== undefined) {
      tracker.acknowledge(committed)
      const previousRun = uniqueBlocks([...tracker.knownBlocks(), ...pendingBlocks]).filter(
        (b) => b.receiver === tracker.lastReceiver,
      )
      this.#report = reliableRecovery(previousRun, resumeAt)
      // Recorded before anything is received, so the next start knows which run this was.
      await tracker.receiverStarted(this.#receiverId)
    } else {
      const accounted = accountedUntilOf(state?.accountedUntil ?? [], pendingBlocks)
      this.#report = unreliableRecovery(accounted, resumeAt)
      this.#accountedUntil = accountedAfterStart(accounted, resumeAt)
    }
    this.#reportRecovery(tracker)
    this.#lossToReport = this.#report.lostRecords
    const firstBlockId = Math.max(
      state?.nextBlockId ?? 0,
      tracker.highestBlockId + 1,
      highestLoggedBlockId + 1,
      (lastPlan?.allocatedThrough ?? -1) + 1,
    )
    const supervisor = new ReceiverSupervisor({
      input: this.name,
      consumer: {
        connection: settings.connection,
        groupId: settings.groupId,
        ...(settings.groupInstanceId === undefined ? {} : { groupInstanceId: settings.groupInstanceId }),
        sessionTimeoutMs: settings.sessionTimeoutMs,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        isolationLevel: settings.isolationLevel,
        startFrom: settings.startFrom,
        topics: settings.topics,
        maxBytesPerFetch: settings.maxBytesPerFetch,
      },
      reliable: settings.wal !== undefined,
      autoCommitIntervalMs: settings.autoCommitIntervalMs,
      blockIntervalMs: settings.blockIntervalMs,
      blockQueueSize: settings.blockQueueSize,
      maxRate: settings.maxRate,
      restartDelayMs: settings.restartDelayMs,
      receiverId: this.#receiverId,
      firstBlockId,
      now: () => this.context.clock.now(),
      handler,
      tracker,
      logger: this.#logger,
    })
    this.#opened = { tracker, handler, trackerLog, damage, supervisor }
    const rate = this.#rateController?.latestRate
    if (rate !== undefined) supervisor.updateRate(rate)
    await supervisor.start()
  }

  position(): Omit<SourcePosition, 'input' | 'kind'> {
    const committed = this.#committedAtStart
    const waiting = this.#opened?.tracker.unallocated.length ?? 0
    const where =
      committed.length === 0
        ? `no committed offsets (starting at ${this.#settings.startFrom})`
        : committed.map((c) => `${c.topic}-${c.partition} @ ${c.offset}`).join(', ')
    return {
      fresh: this.#fresh,
      description:
        `group '${this.#settings.groupId}' on ${this.#settings.topics.join(', ')}: ${where}` +
        (waiting === 0 ? '' : `; ${waiting} received block(s) from the write-ahead log to process first`),
      offsets: committed.map((c) => ({
        topic: c.topic,
        partition: c.partition,
        offset: c.offset.toString(),
      })),
    }
  }

  async plan(batch: BatchRef): Promise<JsonValue> {
    const { tracker, supervisor } = this.#require()
    await supervisor.blocksCutBy(batch.time)
    if (supervisor.fatalError) throw supervisor.fatalError
    const blocks = await tracker.allocate(batch.id, batch.time)
    this.#accountedUntil = advanceAccountedUntil(this.#accountedUntil, blocks)
    return encodeReceiverPlan({
      blocks,
      allocatedThrough: tracker.allocatedThrough,
      rateLimit: this.rateLimit ?? null,
      lostRecords: this.#takeLoss(),
    })
  }

  slice(plan: JsonValue, batch: BatchRef): ReceiverSlice<K, V> {
    const decoded = decodeReceiverPlan(
      plan,
      `the plan of receiver stream '${this.name}' for batch ${batch.id}`,
    )
    const { tracker, handler, damage } = this.#require()
    tracker.noteAllocation(batch.id, decoded.blocks)
    const lost = decoded.blocks.filter((b) => damage.lostBlocks.has(b.id))
    return this.#slice(
      decoded,
      decoded.blocks.filter((b) => !damage.lostBlocks.has(b.id)),
      decoded.lostRecords + lost.reduce((sum, b) => sum + b.records, 0),
      handler,
      batch.id,
    )
  }

  /**
   * Before a batch planned by an earlier run is processed again. With the write-ahead log its
   * blocks are read from the log (damage was dealt with at start). Without it they died with
   * that run: the batch goes on without them, and counts as lost what the restart found lost.
   */
  override async revalidate(
    slice: InputSlice<KafkaRecord<K, V>>,
    batch: BatchRef,
  ): Promise<InputSlice<KafkaRecord<K, V>>> {
    if (this.#settings.wal !== undefined) return slice
    const { handler } = this.#require()
    const { plan } = slice as ReceiverSlice<K, V>
    const held: ReceivedBlock[] = []
    for (const block of plan.blocks) if ((await handler.read(block)) !== undefined) held.push(block)
    if (held.length === plan.blocks.length) return slice
    const gone = plan.blocks.filter((b) => !held.includes(b))
    // The pending batch's records are partly delivered again and partly lost, and the start
    // counted the lost ones (the next new batch reports them); a committed batch recomputed
    // to rebuild state simply misses its records.
    const lostRecords =
      plan.lostRecords +
      (batch.id === this.#replayedBatchId ? 0 : gone.reduce((sum, b) => sum + b.records, 0))
    this.#logger.warn(
      'without the write-ahead log, the blocks of a batch planned before the restart died with the process',
      {
        batchId: batch.id,
        blocks: gone.length,
        records: gone.reduce((sum, b) => sum + b.records, 0),
        countedLost: lostRecords,
      },
    )
    return this.#slice(plan, held, lostRecords, handler, batch.id)
  }

  override saveState(): JsonValue {
    const opened = this.#opened
    return encodeReceiverState({
      nextBlockId: opened?.supervisor.nextBlockId ?? 0,
      accountedUntil: [...this.#accountedUntil.values()],
      ...(this.#rateController ? { rate: this.#rateController.exportState() as unknown as JsonValue } : {}),
    })
  }

  override onBatchCompleted(info: BatchInfo, own: SourceProgress | undefined): void {
    const rate = this.#rateController?.onBatchCompleted({
      processingEndTime: info.startedAt + info.processingTime,
      numRecords: own?.numInputRecords ?? 0,
      processingDelay: info.processingTime,
      schedulingDelay: info.schedulingDelay,
    })
    if (rate !== undefined) this.#opened?.supervisor.updateRate(rate)
  }

  /** Frees the blocks of batches before `batchId`: memory, and write-ahead log segments nothing needs. */
  override async releaseBefore(batchId: number): Promise<void> {
    const opened = this.#opened
    if (opened === undefined) return
    try {
      const released = await opened.tracker.release(batchId)
      if (released.length === 0) return
      const data = await opened.handler.cleanup(released, opened.tracker.lowestNeededBlockId())
      const metadata = await opened.tracker.cleanLog()
      if (data.length + metadata.length > 0) {
        this.#logger.debug('deleted write-ahead log segments no batch needs', {
          beforeBatchId: batchId,
          data,
          metadata,
        })
      }
    } catch (error) {
      // The data stays on disk a little longer; the next batch's cleanup tries again.
      this.#logger.warn('cleaning up received blocks failed', { beforeBatchId: batchId, error })
    }
  }

  override async stopReceiving(): Promise<void> {
    await this.#opened?.supervisor.stop()
  }

  override holdsUnplannedData(): boolean {
    return (this.#opened?.tracker.unallocated.length ?? 0) > 0
  }

  async close(): Promise<void> {
    const opened = this.#opened
    if (opened === undefined || this.#closed) return
    this.#closed = true
    await opened.supervisor.stop()
    await opened.handler.close()
    await opened.trackerLog?.close()
  }

  #slice(
    plan: ReceiverPlan,
    readable: readonly ReceivedBlock[],
    lostRecords: number,
    handler: ReceivedBlockHandler,
    batchId: number,
  ) {
    return new ReceiverSlice<K, V>({
      input: this,
      plan,
      readable,
      lostRecords,
      reader: handler,
      key: this.#settings.key,
      value: this.#settings.value,
      runner: this.context.runner,
      undecodable: UndecodableRecords.forBatch(this.#settings.onDeserializationError, {
        logger: this.#logger,
        app: this.context.appName,
        input: this.name,
        batchId,
      }),
      lease: this.#deadLetterLease,
    })
  }

  #takeLoss(): number {
    const loss = this.#lossToReport
    this.#lossToReport = 0
    return loss
  }

  #require(): Opened {
    if (this.#opened === undefined || this.#closed) {
      throw new SluiceError(ErrorCodes.CLOSED, `receiver stream '${this.name}' is not open`)
    }
    return this.#opened
  }

  async #openStores(
    lastPlan: ReceiverPlan | undefined,
    damage: WalDamageLedger,
  ): Promise<{
    tracker: ReceivedBlockTracker
    handler: ReceivedBlockHandler
    trackerLog: WriteAheadLog | undefined
    highestLoggedBlockId: number
  }> {
    const wal = this.#settings.wal
    const allocatedThrough = lastPlan?.allocatedThrough ?? -1
    if (wal === undefined) {
      const tracker = await ReceivedBlockTracker.recover({ log: undefined, damage })
      tracker.alignWithCheckpoint(allocatedThrough)
      return { tracker, handler: new MemoryBlockHandler(), trackerLog: undefined, highestLoggedBlockId: -1 }
    }
    const dir = join(this.context.checkpointDir!, 'receivers', this.name)
    const now = () => this.context.clock.now()
    const logSettings = { rollIntervalMs: wal.rollIntervalMs, maxSegmentBytes: wal.maxSegmentBytes, now }
    const trackerLog = await WriteAheadLog.open({
      dir: join(dir, 'metadata'),
      what: 'received block metadata',
      ...logSettings,
    })
    const dataLog = await WriteAheadLog.open({
      dir: join(dir, 'data'),
      what: 'received data',
      ...logSettings,
    })
    try {
      const tracker = await ReceivedBlockTracker.recover({ log: trackerLog, damage })
      tracker.alignWithCheckpoint(allocatedThrough)
      const needed = uniqueBlocks([...tracker.neededBlocks(), ...(lastPlan?.blocks ?? [])])
      const { handler, highestBlockId } = await WalBlockHandler.open(dataLog, needed, damage)
      damage.throwIfRefused()
      return { tracker, handler, trackerLog, highestLoggedBlockId: highestBlockId }
    } catch (error) {
      await dataLog.close()
      await trackerLog.close()
      throw error
    }
  }

  /**
   * The group's committed offsets, and where the group resumes reading each partition of
   * the subscription: its committed offset, or the log start for a partition without one
   * when starting from the earliest offsets (from the latest, that position is a moving
   * target, and left out).
   */
  async #readGroupPositions(): Promise<{
    committed: PartitionOffset[]
    resumeAt: Map<string, PartitionOffset>
  }> {
    const { connection, topics, groupId, startFrom } = this.#settings
    const client = new KafkaClient({ ...connection })
    try {
      const subscribed = new Set(topics)
      const committed = (await client.groupOffsets(groupId)).filter((o) => subscribed.has(o.topic))
      const resumeAt = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), c]))
      if (startFrom === 'earliest') {
        const cluster = await client.metadata(topics)
        const partitions = [...cluster.topics.values()].flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.name, partition: p.partition })),
        )
        const missing = partitions.filter((p) => !resumeAt.has(partitionKey(p.topic, p.partition)))
        for (const start of await client.listOffsets(missing, 'earliest')) {
          resumeAt.set(partitionKey(start.topic, start.partition), start)
        }
      }
      return { committed, resumeAt }
    } finally {
      await client.close()
    }
  }

  #reportRecovery(tracker: ReceivedBlockTracker): void {
    const report = this.#report
    const { unallocated, known } = tracker.describe()
    if (report.lostRecords > 0) {
      this.#logger.warn(
        'without the write-ahead log, records the previous run had received and auto-committed but not processed are lost',
        { lostRecords: report.lostRecords, lost: report.lost.map(String) },
      )
    }
    if (report.redeliveredRecords > 0) {
      this.#logger.info(
        'records the previous run had taken in but not committed to the group will be delivered again and processed twice (at-least-once)',
        { redeliveredRecords: report.redeliveredRecords, redelivered: report.redelivered.map(String) },
      )
    }
    if (this.#settings.wal !== undefined && !this.#fresh) {
      this.#logger.info('recovered received blocks from the write-ahead log', { unallocated, known })
    }
  }
}

function uniqueBlocks(blocks: readonly ReceivedBlock[]): ReceivedBlock[] {
  const byId = new Map<number, ReceivedBlock>()
  for (const block of blocks) if (!byId.has(block.id)) byId.set(block.id, block)
  return [...byId.values()].sort((a, b) => a.id - b.id)
}

/**
 * A stream of Kafka records received by a consumer-group member in the job's process —
 * Spark's `KafkaUtils.createStream`. Prefer `createDirectStream`; this exists to run
 * receiver-era jobs and to measure the difference (docs/receiver-vs-direct.md).
 */
export function createReceiverStream<K = Buffer, V = Buffer>(
  context: StreamingContext,
  options: ReceiverStreamOptions<K, V>,
): ReceiverInputDStream<K, V> {
  return new ReceiverInputDStream<K, V>(context, options)
}
