import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import {
  type ConsumedRecord,
  GroupConsumer,
  type GroupConsumerOptions,
  type OffsetToCommit,
} from '../../kafka/group-consumer.ts'
import { TokenBucket } from '../../scheduler/token-bucket.ts'
import type { EncodedBlock } from './block-codec.ts'
import { BlockGenerator } from './block-generator.ts'
import type { ReceivedBlockHandler } from './block-handler.ts'
import type { ReceivedBlock } from './received-block.ts'
import type { ReceivedBlockTracker } from './received-block-tracker.ts'
import { type ReceiverBlockEvent, receiverBlockChannel } from './receiver-diagnostics.ts'

export interface ReceiverSupervisorOptions {
  /** The input's name, for diagnostics. */
  readonly input: string
  readonly consumer: GroupConsumerOptions
  /** Reliable: blocks are committed to the group once stored (write-ahead log); otherwise the receiver auto-commits. */
  readonly reliable: boolean
  /** Unreliable mode: every this many ms, what the receiver has taken in is committed, processed or not. */
  readonly autoCommitIntervalMs: number
  readonly blockIntervalMs: number
  readonly blockQueueSize: number
  /** records/s at most (Infinity: no limit), until backpressure says otherwise. */
  readonly maxRate: number
  /** Wait before a receiver whose consumer failed is started again. */
  readonly restartDelayMs: number
  readonly receiverId: string
  readonly firstBlockId: number
  readonly now: () => number
  readonly handler: ReceivedBlockHandler
  readonly tracker: ReceivedBlockTracker
  readonly logger: Logger
}

type PauseReason = 'rate' | 'queue' | 'stopping' | 'failed'

/**
 * Runs the receiver in the job's process and looks after it (Spark's ReceiverSupervisor with
 * the ReliableKafkaReceiver): a consumer-group member reads continuously; each record passes
 * the rate limiter and goes into the block generator; each block is stored by the block
 * handler, reported to the tracker, and — in reliable mode, and only then — its offsets are
 * committed to the group. A consumer that fails is closed and started again after a delay,
 * as Spark restarts a receiver; a block that cannot be stored stops the receiver for good,
 * and the next batch fails with the reason.
 */
export class ReceiverSupervisor {
  readonly #options: ReceiverSupervisorOptions
  readonly #generator: BlockGenerator
  readonly #bucket: TokenBucket
  readonly #paused = new Set<PauseReason>()
  #consumer: GroupConsumer | undefined
  #rateTimer: NodeJS.Timeout | undefined
  #restartTimer: NodeJS.Timeout | undefined
  #fatal: SluiceError | undefined
  #committing: Promise<void> = Promise.resolve()
  /** Per topic and partition, the next offset after the last record taken in (auto-commit's position). */
  readonly #taken = new Map<
    string,
    { topic: string; partition: number; offset: bigint; leaderEpoch: number }[]
  >()
  #takenChanged = false
  #autoCommitTimer: NodeJS.Timeout | undefined
  #stopped = false
  #records = 0
  #restarts = 0

  constructor(options: ReceiverSupervisorOptions) {
    this.#options = options
    this.#bucket = new TokenBucket(
      options.maxRate,
      bucketCapacity(options.maxRate, options.blockIntervalMs),
      Date.now(),
    )
    this.#generator = new BlockGenerator({
      blockIntervalMs: options.blockIntervalMs,
      queueSize: options.blockQueueSize,
      now: options.now,
      receiverId: options.receiverId,
      firstBlockId: options.firstBlockId,
      push: (block) => this.#push(block),
      onPushFailed: (error) => this.#failFatally(error),
      onQueueFull: (full) => this.#setPaused('queue', full),
    })
  }

  /** Why the receiver stopped for good, if it did: the next batch fails with it. */
  get fatalError(): SluiceError | undefined {
    return this.#fatal
  }

  /** The rate limit in force (records/s; Infinity when none). */
  get rate(): number {
    return this.#bucket.rate
  }

  /** The id the next block gets. */
  get nextBlockId(): number {
    return this.#generator.nextBlockId
  }

  get stats(): { readonly records: number; readonly restarts: number; readonly bufferedRecords: number } {
    return {
      records: this.#records,
      restarts: this.#restarts,
      bufferedRecords: this.#generator.backlog.records,
    }
  }

  /** Joins the group and starts receiving; a failure to join fails the start. */
  async start(): Promise<void> {
    this.#generator.start()
    await this.#startConsumer()
    if (!this.#options.reliable) {
      this.#autoCommitTimer = setInterval(() => this.#autoCommit(), this.#options.autoCommitIntervalMs)
    }
  }

  /**
   * A batch of `time` is being planned: resolves once every block stamped at or before it is
   * stored and known to the tracker, and no later block will be, so that the batch gets
   * exactly the blocks of its interval (never rejects).
   */
  blocksCutBy(time: number): Promise<void> {
    return this.#generator.sealThrough(time)
  }

  /** Backpressure's new rate (records/s), never above the configured maximum. */
  updateRate(rate: number): void {
    const limited = Math.min(rate, this.#options.maxRate)
    if (limited === this.#bucket.rate) return
    this.#bucket.update(limited, bucketCapacity(limited, this.#options.blockIntervalMs), Date.now())
  }

  /**
   * Stops receiving: reading pauses, what was received is cut into blocks and pushed (stored,
   * reported, committed), then the consumer leaves the group. Never rejects.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearTimeout(this.#rateTimer)
    clearTimeout(this.#restartTimer)
    clearInterval(this.#autoCommitTimer)
    this.#setPaused('stopping', true)
    this.#consumer?.drainBuffered()
    await this.#generator.stop()
    if (!this.#options.reliable) this.#autoCommit()
    await this.#committing
    await this.#consumer?.close()
    this.#consumer = undefined
  }

  async #startConsumer(): Promise<void> {
    let running: GroupConsumer | undefined
    const consumer = await GroupConsumer.start(this.#options.consumer, {
      onRecord: (record) => this.#onRecord(record),
      onError: (error) => {
        if (running !== undefined) this.#onConsumerError(running, error)
      },
    })
    running = consumer
    if (this.#stopped) {
      await consumer.close()
      return
    }
    this.#consumer = consumer
    if (this.#paused.size === 0) consumer.resume()
    this.#options.logger.info('receiver started', {
      groupId: this.#options.consumer.groupId,
      topics: this.#options.consumer.topics,
      assignment: consumer.assignment.map((p) => `${p.topic}-${p.partition}`),
      receiver: this.#options.receiverId,
    })
  }

  #onRecord(record: ConsumedRecord): void {
    this.#take(record)
    if (this.#stopped) return
    const wait = this.#bucket.take(1, Date.now())
    if (wait > 0 && !this.#paused.has('rate')) {
      this.#setPaused('rate', true)
      this.#rateTimer = setTimeout(() => this.#setPaused('rate', false), wait)
    }
  }

  #take(record: ConsumedRecord): void {
    this.#records++
    this.#generator.add(record)
    if (this.#options.reliable) return
    let partitions = this.#taken.get(record.topic)
    if (partitions === undefined) {
      partitions = []
      this.#taken.set(record.topic, partitions)
    }
    const taken = partitions[record.partition]
    // The record's own offset is kept; the commit adds one (no bigint made per record).
    if (taken === undefined) {
      partitions[record.partition] = {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        leaderEpoch: record.leaderEpoch,
      }
    } else {
      taken.offset = record.offset
      taken.leaderEpoch = record.leaderEpoch
    }
    this.#takenChanged = true
  }

  /**
   * Unreliable mode's auto-commit, as Kafka's consumer does it: the positions of the records
   * handed to the receiver, whether or not a batch has processed them yet.
   */
  #autoCommit(): void {
    if (!this.#takenChanged) return
    this.#takenChanged = false
    const offsets: OffsetToCommit[] = []
    for (const partitions of this.#taken.values()) {
      for (const taken of partitions)
        if (taken !== undefined) offsets.push({ ...taken, offset: taken.offset + 1n })
    }
    this.#committing = this.#committing.then(async () => {
      try {
        const consumer = this.#consumer
        if (consumer === undefined) throw new SluiceError(ErrorCodes.CLOSED, 'no consumer is running')
        await consumer.commit(offsets)
      } catch (error) {
        this.#options.logger.warn('an auto-commit of the receiver failed; the next one retries', { error })
        this.#takenChanged = true
      }
    })
  }

  async #push(encoded: EncodedBlock): Promise<void> {
    const { handler, tracker, reliable, logger } = this.#options
    const block = await handler.store(encoded)
    this.#publish('stored', block)
    await tracker.addBlock(block)
    this.#publish('added', block)
    if (!reliable) return
    const consumer = this.#consumer
    try {
      if (consumer === undefined) throw new SluiceError(ErrorCodes.CLOSED, 'no consumer is running')
      await consumer.commit(encoded.commits)
      tracker.acknowledge(encoded.commits)
      this.#publish('committed', block)
    } catch (error) {
      // The block is safe in the write-ahead log; Kafka will deliver its records again after
      // a restart or rebalance, and they are processed twice: at-least-once.
      logger.warn(
        'committing a stored block to the consumer group failed; its records may be delivered again',
        {
          block: block.id,
          error,
        },
      )
    }
  }

  #publish(step: ReceiverBlockEvent['step'], block: ReceivedBlock): void {
    if (receiverBlockChannel.hasSubscribers) {
      receiverBlockChannel.publish({ input: this.#options.input, step, block } satisfies ReceiverBlockEvent)
    }
  }

  #onConsumerError(consumer: GroupConsumer, error: SluiceError): void {
    if (this.#stopped || this.#consumer !== consumer) return
    this.#consumer = undefined
    void consumer.close()
    this.#scheduleRestart(error)
  }

  /** Starts a new consumer after the restart delay; a restart that fails is retried the same way. */
  #scheduleRestart(error: unknown): void {
    this.#restarts++
    this.#options.logger.warn('the receiver failed; restarting it', {
      error,
      restartDelayMs: this.#options.restartDelayMs,
      restarts: this.#restarts,
    })
    this.#restartTimer = setTimeout(() => {
      if (this.#stopped) return
      this.#startConsumer().catch((startError: unknown) => this.#scheduleRestart(startError))
    }, this.#options.restartDelayMs)
  }

  #failFatally(error: SluiceError | Error): void {
    this.#fatal =
      error instanceof SluiceError
        ? error
        : new SluiceError(ErrorCodes.CHECKPOINT, `storing a received block failed: ${error.message}`, {
            cause: error,
          })
    this.#options.logger.error('the receiver cannot store received blocks and stops', { error: this.#fatal })
    this.#setPaused('failed', true)
  }

  #setPaused(reason: PauseReason, paused: boolean): void {
    const before = this.#paused.size > 0
    if (paused) this.#paused.add(reason)
    else this.#paused.delete(reason)
    const after = this.#paused.size > 0
    if (before === after) return
    if (after) this.#consumer?.pause()
    else this.#consumer?.resume()
  }
}

/** A quiet receiver may read one block interval's worth at once, and never less than one record. */
function bucketCapacity(rate: number, blockIntervalMs: number): number {
  if (rate === Number.POSITIVE_INFINITY) return 1
  return Math.max(1, (rate * blockIntervalMs) / 1000)
}
