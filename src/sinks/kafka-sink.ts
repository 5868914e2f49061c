import { channel } from 'node:diagnostics_channel'
import { ErrorCodes, isSluiceError, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import {
  arrayOption,
  durationMs,
  loggerOption,
  nonEmptyString,
  optionsObject,
  parseOptions,
  required,
  stringOption,
} from '../core/options.ts'
import { partitionKey } from '../core/partition-key.ts'
import { KafkaClient } from '../kafka/client.ts'
import { brokerList, connectionOptions, type KafkaConnectionOptions } from '../kafka/options.ts'
import { TransactionalProducer } from '../kafka/transactions.ts'
import type { ProduceRecord } from '../kafka/types.ts'
import { byPartition, checkBatch, lostRangesOf, type SinkBatch } from './batch.ts'
import { decodeLostRecords, type LostRecords, nextLostMetadata } from './kafka-lost-records.ts'
import { checkStoredOffsets } from './offset-check.ts'
import { type BatchOutcome, type OffsetStoringSink, type StoredOffsets, toStoredOffsets } from './sink.ts'
import { publishingOutcome } from './sink-diagnostics.ts'
import {
  alreadyAppliedByAnotherError,
  batchWriteError,
  closedError,
  notStartedError,
  offsetMismatchError,
} from './sink-errors.ts'

/**
 * Internal, for fault-injection tests only (not exported from the package): the sink
 * publishes `{ app, batchId, step }` here at the moments of a batch's transaction that
 * matter to recovery. `step` is 'offsets-committed' once the until-offsets are part of the
 * open transaction and the commit is next. A subscriber runs synchronously, so a test child
 * can kill itself exactly there.
 */
export const kafkaSinkStepChannelName = 'sluice:internal:kafka-sink:step'
const stepChannel = channel(kafkaSinkStepChannelName)

/** Options of `createKafkaSink`. */
export interface KafkaSinkOptions {
  /** The application's name; the transactional id and group default to `sluice-<app>`. */
  readonly app: string
  /** Bootstrap brokers of the cluster the output goes to, as `host:port`. */
  readonly brokers: readonly string[]
  /** Stable across restarts and unique per app: it is what fences a zombie instance. */
  readonly transactionalId?: string
  /** The consumer group the batches' until-offsets are committed to. */
  readonly groupId?: string
  /** How long one batch's transaction may stay open before the broker aborts it (default 60 s). */
  readonly transactionTimeoutMs?: number
  /** Connection settings (clientId, timeouts, TLS, SASL) as for the Kafka client. */
  readonly connection?: KafkaConnectionOptions
  /** Output topics that must exist: a missing one fails `start()`, not the first batch. */
  readonly topics?: readonly string[]
  readonly logger?: Logger
}

/** What the write function of a batch produces through: records join the batch's transaction. */
export interface KafkaSinkTransaction {
  readonly batch: SinkBatch
  send(records: readonly ProduceRecord[]): Promise<void>
}

type State = 'new' | 'started' | 'fenced' | 'closed'

const kafkaSinkOptions = optionsObject({
  app: required(nonEmptyString),
  brokers: required(brokerList),
  transactionalId: nonEmptyString,
  groupId: nonEmptyString,
  transactionTimeoutMs: durationMs(),
  connection: connectionOptions,
  topics: arrayOption(stringOption({ expected: 'a topic name' }), { expected: 'an array of topic names' }),
  logger: loggerOption,
})

/**
 * The exactly-once Kafka sink. Each batch is ONE Kafka transaction that produces the
 * batch's output AND commits its until-offsets to the app's consumer group
 * (TxnOffsetCommit); read_committed consumers see the output exactly when the offsets move.
 * Before the transaction, the group's committed offsets decide what to do, exactly as the
 * SQL sink's offsets table does: at from → write, at until → already written (a replay),
 * anything else → mismatch. A second instance with the same transactional id fences this
 * one: its next batch fails with FENCED.
 */
export class KafkaSink implements OffsetStoringSink<KafkaSinkTransaction> {
  readonly app: string
  readonly transactionalId: string
  readonly groupId: string
  readonly #client: KafkaClient
  readonly #producerOptions: ConstructorParameters<typeof TransactionalProducer>[0]
  readonly #logger: Logger
  readonly #topics: readonly string[]
  #producer: TransactionalProducer | undefined
  #state: State = 'new'
  #starting: Promise<void> | undefined
  #fenced: SluiceError | undefined

  constructor(options: KafkaSinkOptions) {
    const given = parseOptions(kafkaSinkOptions, options, 'createKafkaSink')
    const { app } = given
    this.app = app
    this.transactionalId = given.transactionalId ?? `sluice-${app}`
    this.groupId = given.groupId ?? `sluice-${app}`
    this.#logger = (given.logger ?? createLogger()).child({ component: 'kafka-sink', app })
    this.#topics = given.topics ?? []
    const connection = { ...given.connection, brokers: given.brokers, logger: this.#logger }
    this.#client = new KafkaClient({ clientId: `sluice-${app}`, ...connection })
    this.#producerOptions = {
      clientId: `sluice-${app}`,
      ...connection,
      transactionalId: this.transactionalId,
      ...(given.transactionTimeoutMs === undefined
        ? {}
        : { transactionTimeoutMs: given.transactionTimeoutMs }),
    }
    // Validates brokers, timeouts and the transaction timeout now, not at start().
    this.#producer = new TransactionalProducer(this.#producerOptions)
  }

  /**
   * Takes the transactional id (fencing any older instance, and waiting until its open
   * transaction is aborted) — so an unreachable cluster fails here, before any batch.
   */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedError('Kafka', this.app)
    if (this.#state !== 'new') return
    // A second start() while the first is under way waits for the same outcome.
    this.#starting ??= this.#checkTopics()
      .then(() => this.#producer!.init())
      .finally(() => {
        this.#starting = undefined
      })
    await this.#starting
    if (this.#state === 'new') this.#state = 'started'
  }

  /** Fails with the first missing output topic named (UNKNOWN_TOPIC_OR_PARTITION). */
  async #checkTopics(): Promise<void> {
    if (this.#topics.length > 0) await this.#client.metadata(this.#topics, { refresh: true })
  }

  /**
   * Writes a batch in one Kafka transaction: the write function's records and the batch's
   * until-offsets (with what the batch lost to retention, in the offsets' metadata) commit
   * together. Outcomes and errors as for every offset-keeping sink (see `checkStoredOffsets`).
   */
  async writeBatch(
    batch: SinkBatch,
    write: (tx: KafkaSinkTransaction) => Promise<void>,
  ): Promise<BatchOutcome> {
    return publishingOutcome(this.app, 'kafka', batch, () => this.#writeBatch(batch, write))
  }

  async #writeBatch(
    batch: SinkBatch,
    write: (tx: KafkaSinkTransaction) => Promise<void>,
  ): Promise<BatchOutcome> {
    this.#checkStarted()
    const ranges = checkBatch(batch)
    const store = `consumer group '${this.groupId}'`
    const producer = await this.#usableProducer(batch)
    // Stable offsets only: an offset commit of a transaction still completing is waited for.
    const committed = await this.#client
      .groupOffsets(this.groupId, ranges, { requireStable: true })
      .catch((error) => {
        throw batchWriteError(this.app, batch, error, `reading the offsets of ${store}`)
      })
    const stored = new Map(committed.map((o) => [partitionKey(o.topic, o.partition), o]))
    const storedOf = (r: { topic: string; partition: number }) =>
      stored.get(partitionKey(r.topic, r.partition))
    const check = checkStoredOffsets(
      ranges,
      (r) => storedOf(r)?.offset,
      (r) => lostRangesOf(batch, r),
    )
    if (check.kind === 'mismatch' || check.kind === 'partly-applied') {
      throw offsetMismatchError(this.app, batch, check, store)
    }
    if (check.kind === 'already-applied') {
      if (!batch.replay) throw alreadyAppliedByAnotherError(this.app, batch, store)
      this.#logger.debug('batch already written', { batchId: batch.id })
      return 'already-applied'
    }
    const offsets = ranges.map((r) => {
      const previous = storedOf(r)
      const metadata = nextLostMetadata(batch, r, decodeLostRecords(r, previous?.metadata))
      const offset = { topic: r.topic, partition: r.partition, offset: r.untilOffset }
      return metadata === undefined ? offset : { ...offset, metadata }
    })

    try {
      await producer.begin()
      try {
        await write({ batch, send: async (records) => void (await producer.send(records)) })
      } catch (error) {
        if (isSluiceError(error, ErrorCodes.FENCED)) throw error
        throw batchWriteError(this.app, batch, error)
      }
      await producer.commitOffsets(this.groupId, offsets)
      if (stepChannel.hasSubscribers) {
        stepChannel.publish({ app: this.app, batchId: batch.id, step: 'offsets-committed' })
      }
      await producer.commit()
    } catch (error) {
      await producer.abort().catch(() => {})
      throw this.#failure(batch, error)
    }
    this.#logger.debug('batch written', { batchId: batch.id })
    return 'applied'
  }

  /**
   * The group's committed offsets as `{ [topic]: { [partition]: offset } }` — pass it as the
   * stream's `startingOffsets` to run without a checkpoint.
   */
  async storedOffsets(): Promise<StoredOffsets> {
    this.#checkStarted()
    const committed = await this.#client.groupOffsets(this.groupId, undefined, { requireStable: true })
    return toStoredOffsets(committed)
  }

  /**
   * What batches skipped because retention had deleted records before they were read
   * (failOnDataLoss: false), per partition that ever lost any: the running total and the
   * latest lost range, as kept in the metadata of the group's committed offsets.
   */
  async lostRecords(): Promise<LostRecords[]> {
    this.#checkStarted()
    const committed = await this.#client.groupOffsets(this.groupId, undefined, { requireStable: true })
    return committed
      .map((o) => decodeLostRecords(o, o.metadata))
      .filter((lost) => lost !== undefined)
      .sort(byPartition)
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    await Promise.allSettled([this.#producer?.close(), this.#client.close()])
  }

  async #freshProducer(): Promise<TransactionalProducer> {
    await this.#producer?.close()
    const producer = new TransactionalProducer(this.#producerOptions)
    this.#producer = producer
    await producer.init()
    return producer
  }

  /**
   * The producer for the next batch. After a commit or abort whose outcome is unknown the
   * old producer cannot go on; a new one's init aborts whatever it left open. Safe for
   * exactly-once: the offsets check runs after it, against stable offsets.
   */
  async #usableProducer(batch: SinkBatch): Promise<TransactionalProducer> {
    if (this.#producer?.broken) {
      this.#logger.warn('recreating the transactional producer after a failed commit or abort', {
        batchId: batch.id,
      })
      try {
        return await this.#freshProducer()
      } catch (error) {
        throw this.#failure(batch, error)
      }
    }
    return this.#producer!
  }

  #failure(batch: SinkBatch, error: unknown): SluiceError {
    if (isSluiceError(error, ErrorCodes.FENCED)) {
      this.#state = 'fenced'
      this.#fenced = new SluiceError(
        ErrorCodes.FENCED,
        `batch ${batch.id} of app '${this.app}' was not written: another instance took over transactional id ` +
          `'${this.transactionalId}' (or the batch's transaction outlived transactionTimeoutMs and the broker ` +
          'aborted it); this instance has been fenced and must stop',
        {
          cause: error,
          details: { app: this.app, batchId: batch.id, transactionalId: this.transactionalId },
        },
      )
      return this.#fenced
    }
    if (isSluiceError(error) && error.details.batchId === batch.id) return error
    return batchWriteError(this.app, batch, error, 'the Kafka transaction')
  }

  #checkStarted(): void {
    if (this.#state === 'fenced') throw this.#fenced!
    if (this.#state === 'closed') throw closedError('Kafka', this.app)
    if (this.#state !== 'started') throw notStartedError('Kafka', this.app)
  }
}

/** Creates a Kafka sink; options are checked now, the cluster is contacted by `start()`. */
export function createKafkaSink(options: KafkaSinkOptions): KafkaSink {
  return new KafkaSink(options)
}
