import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { partitionKey } from '../core/partition-key.ts'
import { KafkaClient } from '../kafka/client.ts'
import { TransactionalProducer } from '../kafka/transactions.ts'
import type { CommittedOffset } from '../kafka/types.ts'
import { byPartition } from './batch.ts'
import { decodeLostRecords } from './kafka-lost-records.ts'
import type { OffsetMove, OffsetsAdmin, StoredPosition } from './offsets-admin.ts'

export interface KafkaOffsetsAdminOptions {
  readonly app: string
  readonly brokers: readonly string[]
  /** The sink's group (default `sluice-<app>`). */
  readonly groupId?: string
  /** The sink's transactional id (default `sluice-<app>`). */
  readonly transactionalId?: string
  readonly logger: Logger
}

/** Transaction states in which a batch is being written (or its end being recorded). */
const inFlight = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence'])

/**
 * The Kafka sink's offsets — its consumer group's committed offsets — for operators. The sink
 * never joins the group: its batches commit offsets inside their transactions, under the
 * app's transactional id. A reset refuses while the group has members (a consumer uses it) or
 * the transactional id has a transaction in progress (a batch is being written); then it
 * takes the transactional id over and commits the new offsets in a transaction of its own,
 * exactly as a batch would. A job still running between batches never overwrites the reset:
 * its next batch finds the offsets moved (SLUICE_SINK_OFFSET_MISMATCH) or, having checked
 * them just before, is fenced by the takeover (SLUICE_FENCED).
 */
export class KafkaOffsetsAdmin implements OffsetsAdmin {
  readonly app: string
  readonly where: string
  readonly groupId: string
  readonly transactionalId: string
  readonly #options: KafkaOffsetsAdminOptions
  readonly #client: KafkaClient

  constructor(options: KafkaOffsetsAdminOptions) {
    this.app = options.app
    this.groupId = options.groupId ?? `sluice-${options.app}`
    this.transactionalId = options.transactionalId ?? `sluice-${options.app}`
    this.where = `consumer group '${this.groupId}'`
    this.#options = options
    this.#client = new KafkaClient({ brokers: [...options.brokers], logger: options.logger })
  }

  async read(): Promise<StoredPosition[]> {
    const committed = await this.#client.groupOffsets(this.groupId, undefined, { requireStable: true })
    return committed.map(positionOf).sort(byPartition)
  }

  async activity(): Promise<string[]> {
    const [group, transaction] = await Promise.all([
      this.#client.groupState(this.groupId),
      this.#client.transactionState(this.transactionalId),
    ])
    return [
      `group '${this.groupId}': ${group.state}, ${group.members} member${group.members === 1 ? '' : 's'}`,
      transaction === undefined
        ? `transactional id '${this.transactionalId}': never used`
        : `transactional id '${this.transactionalId}': ${transaction.state} (producer ${transaction.producerId}, epoch ${transaction.producerEpoch})`,
    ]
  }

  async reset(
    plan: (current: readonly StoredPosition[]) => Promise<readonly OffsetMove[]>,
    options: { readonly dryRun: boolean },
  ): Promise<readonly OffsetMove[]> {
    await this.#refuseWhileInUse()
    if (options.dryRun) return plan(await this.read())
    const producer = new TransactionalProducer({
      brokers: [...this.#options.brokers],
      transactionalId: this.transactionalId,
      logger: this.#options.logger,
    })
    try {
      // From here on no older owner of the id can commit: what is read now stays true.
      await producer.init()
      const current = await this.#client.groupOffsets(this.groupId, undefined, { requireStable: true })
      const moves = await plan(current.map(positionOf).sort(byPartition))
      if (moves.length === 0) return moves
      const metadataOf = new Map(current.map((c) => [partitionKey(c.topic, c.partition), c.metadata]))
      const offsets: CommittedOffset[] = moves.map((m) => {
        const metadata = metadataOf.get(partitionKey(m.topic, m.partition))
        return {
          topic: m.topic,
          partition: m.partition,
          offset: m.to,
          ...(metadata === undefined ? {} : { metadata }),
        }
      })
      await producer.begin()
      await producer.commitOffsets(this.groupId, offsets)
      await producer.commit()
      return moves
    } finally {
      await producer.close()
    }
  }

  async #refuseWhileInUse(): Promise<void> {
    const group = await this.#client.groupState(this.groupId)
    if (group.members > 0) {
      throw new SluiceError(
        ErrorCodes.OFFSETS_IN_USE,
        `consumer group '${this.groupId}' has ${group.members} live member(s) (state ${group.state}): a consumer ` +
          'uses it; stop it first; nothing was reset',
        { details: { groupId: this.groupId, members: group.members } },
      )
    }
    const transaction = await this.#client.transactionState(this.transactionalId)
    if (transaction !== undefined && inFlight.has(transaction.state)) {
      throw new SluiceError(
        ErrorCodes.OFFSETS_IN_USE,
        `a batch of app '${this.app}' is being written right now (transactional id '${this.transactionalId}' ` +
          `is ${transaction.state}): stop the job first; nothing was reset`,
        { details: { transactionalId: this.transactionalId, state: transaction.state } },
      )
    }
  }

  async close(): Promise<void> {
    await this.#client.close()
  }
}

function positionOf(committed: CommittedOffset): StoredPosition {
  const lost = decodeLostRecords(committed, committed.metadata)
  return {
    topic: committed.topic,
    partition: committed.partition,
    offset: committed.offset,
    ...(lost === undefined ? {} : { lostRecords: lost.records }),
    ...(committed.metadata === undefined ? {} : { metadata: committed.metadata }),
  }
}
