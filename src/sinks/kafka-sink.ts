import { channel } from 'node:diagnostics_channel'
import { ErrorCodes, invalidOption, isSluiceError, SluiceError } from '../core/errors.ts'
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
import { describeOwner, type PartitionOwner } from '../kafka/partition-owner.ts'
import { TransactionalProducer } from '../kafka/transactions.ts'
import type { ProduceRecord, TopicPartition } from '../kafka/types.ts'
import { byPartition, checkBatch, lostRangesOf, type SinkBatch } from './batch.ts'
import { Abandoned, throwIfAbandoned, untilAbandoned } from './batch-signal.ts'
import { decodeLostRecords, type LostRecords, nextLostMetadata } from './kafka-lost-records.ts'
import { checkStoredOffsets } from './offset-check.ts'
import { type BatchOutcome, type OffsetStoringSink, type StoredOffsets, toStoredOffsets } from './sink.ts'
import { publishingOutcome } from './sink-diagnostics.ts'
import {
  alreadyAppliedByAnotherError,
  batchAbandonedError,
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
  /** True when the transactional id is the default `sluice-<app>`, which every process of the app would share. */
  readonly #defaultTransactionalId: boolean
  readonly #transactionTimeoutMs: number
  #producer: TransactionalProducer | undefined
  #state: State = 'new'
  #starting: Promise<void> | undefined
  #fenced: SluiceError | undefined

  constructor(options: KafkaSinkOptions) {
    const given = parseOptions(kafkaSinkOptions, options, 'createKafkaSink')
    const { app } = given
    this.app = app
    this.transactionalId = given.transactionalId ?? `sluice-${app}`
    this.#defaultTransactionalId = given.transactionalId === undefined
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
    this.#transactionTimeoutMs = this.#producer.transactionTimeoutMs
  }

  /**
   * As the offset store of a stream whose partitions processes share: only through the
   * stream's own consumer group (the coordinator refuses a stale member's offsets by its
   * generation), and with a transactional id of this process's own.
   */
  checkSharedUse(sharing: { readonly groupId?: string | undefined; readonly split: boolean }): void {
    if (sharing.split) {
      throw invalidOption(
        'split',
        'cannot keep its offsets in the Kafka sink: Kafka refuses the offsets of a process that lost its ' +
          "partitions only by its consumer group generation (KIP-447), and a static split has none. Use 'group' " +
          "(with 'instanceId' for stable membership) with the Kafka sink, or the SQL sink with 'split'",
      )
    }
    if (sharing.groupId !== undefined && sharing.groupId !== this.groupId) {
      throw invalidOption(
        'offsetStore',
        `is a Kafka sink that commits offsets to consumer group '${this.groupId}', but the stream's group is ` +
          `'${sharing.groupId}': create the sink with groupId: '${sharing.groupId}', so that its transactions commit ` +
          "the offsets within the group's generations and the coordinator fences a process that lost its partitions",
      )
    }
    if (this.#defaultTransactionalId) {
      throw invalidOption(
        'offsetStore',
        `is a Kafka sink with the default transactional id '${this.transactionalId}', which every process of the ` +
          'group would share and take from each other: give each process its own, stable across its restarts (e.g. ' +
          `transactionalId: \`${this.transactionalId}-\${instanceId}\`)`,
      )
    }
  }

  /**
   * Takes partitions over for `owner` (a member of this sink's group): reads their committed
   * offsets once no transaction of a previous owner is still committing them (requireStable,
   * waiting up to the transaction timeout for one that stalled), and returns where each
   * resumes. The group coordinator does the fencing, by generation, when batches commit.
   */
  async claimPartitions(
    owner: PartitionOwner,
    claims: readonly { readonly topic: string; readonly partition: number; readonly startOffset: bigint }[],
  ): Promise<{ positions: ReadonlyMap<string, bigint>; overtaken: readonly TopicPartition[] }> {
    this.#checkStarted()
    if (owner.kind !== 'group' || owner.groupId !== this.groupId) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `the Kafka sink of app '${this.app}' keeps offsets for consumer group '${this.groupId}', not for ${describeOwner(owner)}`,
      )
    }
    const committed = await this.#stableOffsets(claims)
    const stored = new Map(committed.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
    const positions = new Map(
      claims.map((c) => {
        const key = partitionKey(c.topic, c.partition)
        return [key, stored.get(key) ?? c.startOffset] as const
      }),
    )
    return { positions, overtaken: [] }
  }

  /**
   * The group's committed offsets of `partitions` once stable. A previous owner that stalled
   * with offsets in its open transaction keeps them unstable until the broker aborts that
   * transaction (its timeout); the client's own retries give up sooner, so this waits on.
   */
  async #stableOffsets(partitions: readonly TopicPartition[]) {
    const deadline = Date.now() + this.#transactionTimeoutMs + 10_000
    for (;;) {
      try {
        return await this.#client.groupOffsets(this.groupId, partitions, { requireStable: true })
      } catch (error) {
        if (!isSluiceError(error) || !error.retriable || Date.now() > deadline) throw error
        this.#logger.info('waiting for a transaction of the previous owner to end', { groupId: this.groupId })
      }
    }
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
    const member = this.#memberOf(batch)
    throwIfAbandoned(this.app, batch)
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
      // The run that wrote the batch sent the dead letters it had found in the same
      // transaction; this run finds the same ones, as it reads the same ranges the same way.
      batch.deadLetters?.markSent(batch.deadLetters.pending())
      this.#logger.debug('batch already written', { batchId: batch.id })
      return 'already-applied'
    }
    const offsets = ranges.map((r) => {
      const previous = storedOf(r)
      const metadata = nextLostMetadata(batch, r, decodeLostRecords(r, previous?.metadata))
      const offset = { topic: r.topic, partition: r.partition, offset: r.untilOffset }
      return metadata === undefined ? offset : { ...offset, metadata }
    })

    let deadLetters: readonly ProduceRecord[] = []
    try {
      await producer.begin()
      try {
        await untilAbandoned(
          batch,
          write({ batch, send: async (records) => void (await producer.send(records)) }),
        )
      } catch (error) {
        if (error instanceof Abandoned) throw batchAbandonedError(this.app, batch, error.reason)
        if (isSluiceError(error, ErrorCodes.FENCED)) throw error
        throw batchWriteError(this.app, batch, error)
      }
      throwIfAbandoned(this.app, batch)
      // The dead letters the batch's reads found so far join its transaction: exactly once.
      deadLetters = batch.deadLetters?.pending() ?? []
      if (deadLetters.length > 0) await producer.send(deadLetters)
      // A member's offsets carry its generation: the coordinator refuses them once the group moved on.
      await producer.commitOffsets(this.groupId, offsets, member)
      if (stepChannel.hasSubscribers) {
        stepChannel.publish({ app: this.app, batchId: batch.id, step: 'offsets-committed' })
      }
      throwIfAbandoned(this.app, batch)
      await producer.commit()
    } catch (error) {
      await producer.abort().catch(() => {})
      throw this.#failure(batch, error)
    }
    if (deadLetters.length > 0) batch.deadLetters!.markSent(deadLetters)
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

  /** The group member a batch of a shared stream is written by; it must belong to this sink's group. */
  #memberOf(batch: SinkBatch): PartitionOwner | undefined {
    const { owner } = batch
    if (owner === undefined) return undefined
    if (owner.kind !== 'group' || owner.groupId !== this.groupId) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `batch ${batch.id} comes from ${describeOwner(owner)}, but the Kafka sink of app '${this.app}' commits ` +
          `offsets to consumer group '${this.groupId}': the stream and the sink must use the same group`,
        { details: { app: this.app, batchId: batch.id } },
      )
    }
    return owner
  }

  /**
   * The producer for the next batch. After a commit or abort whose outcome is unknown the old
   * producer cannot go on; a new one's init aborts whatever it left open. A group member's
   * producer fenced because its transaction outlived the transaction timeout (the broker
   * aborted it and bumped the epoch) is replaced too: in a group the generation fences, and a
   * process that really lost its partitions has its batches refused by the coordinator.
   */
  async #usableProducer(batch: SinkBatch): Promise<TransactionalProducer> {
    if (this.#producer?.broken || (batch.owner !== undefined && this.#producer?.fenced)) {
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
    if (isSluiceError(error, ErrorCodes.PARTITIONS_REVOKED) && error.details.batchId !== batch.id) {
      return new SluiceError(
        ErrorCodes.PARTITIONS_REVOKED,
        `batch ${batch.id} of app '${this.app}' was not written: ${error.message}; nothing of the batch was applied`,
        { cause: error, details: { ...error.details, app: this.app, batchId: batch.id } },
      )
    }
    if (isSluiceError(error, ErrorCodes.FENCED) && batch.owner !== undefined) {
      // In a group the generation fences; the producer is replaced for the next batch.
      return new SluiceError(
        ErrorCodes.FENCED,
        `batch ${batch.id} of app '${this.app}' was not written: transactional id '${this.transactionalId}' was ` +
          'fenced (its transaction outlived transactionTimeoutMs and the broker aborted it, or another process uses ' +
          'the same transactional id); nothing of the batch was applied',
        {
          cause: error,
          details: { app: this.app, batchId: batch.id, transactionalId: this.transactionalId },
        },
      )
    }
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
