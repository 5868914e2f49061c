import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { partitionKey } from '../core/partition-key.ts'
import { describeOwner } from '../kafka/partition-owner.ts'
import type { TopicPartition } from '../kafka/types.ts'
import type { PartitionOffsetStore } from './offset-store.ts'
import type { OwnershipLease, PartitionOwnership } from './partition-ownership.ts'

/** What one batch of a shared stream may read. */
export interface SharedTurn {
  readonly lease: OwnershipLease
  /** The discovered partitions this process owns and holds a claim on, in discovery order. */
  readonly partitions: readonly TopicPartition[]
  /** Where the partitions claimed for this batch resume (`partitionKey`); the others go on from their positions. */
  readonly claimed: ReadonlyMap<string, bigint>
}

/** Failures that may mean the process lost partitions rather than that something is wrong. */
const ownershipCodes = new Set<string>([
  ErrorCodes.PARTITIONS_REVOKED,
  ErrorCodes.FENCED,
  ErrorCodes.SINK_OFFSET_MISMATCH,
])

/**
 * The direct stream's side of sharing partitions with other processes: for each batch, a
 * lease from the ownership (group or split), claims in the offset store for the partitions
 * the process does not hold a claim on yet (so their positions come from the store and their
 * previous owner is fenced), and, when a batch is refused, the decision whether the process
 * merely lost partitions (go on without them) or meets a real conflict (stop).
 */
export class SharedPartitions {
  readonly ownership: PartitionOwnership
  readonly store: PartitionOffsetStore
  readonly #logger: Logger
  /** The lease the claims below were made under; a new lease (generation) starts over. */
  #claimsOf: OwnershipLease | undefined
  #claimed = new Set<string>()
  /** Partitions taken over from a higher stored generation under this lease (at most once each). */
  #forced = new Set<string>()
  /** Partitions claimed again under this lease after a refusal the coordinator called current (at most once each). */
  #reclaimed = new Set<string>()

  constructor(ownership: PartitionOwnership, store: PartitionOffsetStore, logger: Logger) {
    this.ownership = ownership
    this.store = store
    this.#logger = logger
  }

  get description(): string {
    return this.ownership.description
  }

  start(topics: readonly string[]): Promise<void> {
    return this.ownership.start(topics)
  }

  /**
   * Waits for a lease (no rebalance under way) and marks a batch in flight; claims the owned
   * partitions among `discovered` that have no claim under this lease yet, each starting at
   * `startOffsets` when the store has nothing for it. Ends the batch again if it fails.
   */
  async begin(
    discovered: readonly TopicPartition[],
    startOffsets: (partitions: readonly TopicPartition[]) => Promise<ReadonlyMap<string, bigint>>,
  ): Promise<SharedTurn> {
    const lease = await this.ownership.beginBatch()
    try {
      if (lease !== this.#claimsOf) {
        this.#claimsOf = lease
        this.#claimed = new Set()
        this.#forced = new Set()
        this.#reclaimed = new Set()
      }
      const owned = discovered.filter((p) => lease.owns(p.topic, p.partition))
      const unclaimed = owned.filter((p) => !this.#claimed.has(partitionKey(p.topic, p.partition)))
      const claimed =
        unclaimed.length === 0 ? new Map<string, bigint>() : await this.#claim(lease, unclaimed, startOffsets)
      return {
        lease,
        partitions: owned.filter((p) => this.#claimed.has(partitionKey(p.topic, p.partition))),
        claimed,
      }
    } catch (error) {
      this.ownership.endBatch()
      throw error
    }
  }

  /** The batch begun last is done (committed, or given up). */
  end(): void {
    this.ownership.endBatch()
  }

  /**
   * A batch under `lease` over `partitions` failed. Returns true when the failure means this
   * process lost partitions — a newer owner claimed them, the group moved to a new generation,
   * the batch was abandoned for a rebalance — and the stream should go on: every partition of
   * the batch is claimed again before the next batch reads it (the batch was rolled back, so
   * its positions come from the store again). Also true, once per partition and lease, when
   * the coordinator says the partitions are still this process's (a claim raced a
   * rebalance): they are claimed again. False when the failure stands: another kind of error,
   * or a static split that was replaced. Throws SLUICE_FENCED when the store refuses
   * partitions the coordinator calls this process's a second time under one lease: another
   * deployment writes the same app.
   */
  async withdraw(
    error: unknown,
    lease: OwnershipLease,
    partitions: readonly TopicPartition[],
  ): Promise<boolean> {
    this.ownership.endBatch()
    const failure = ownershipFailure(error)
    if (failure === undefined || !this.ownership.movesPartitions) return false
    const check = await this.ownership.check(lease).catch((checkError: unknown) => {
      // Unknown counts as lost: claiming again is always safe, and the claim asks again.
      this.#logger.warn('asking the group coordinator about a refused batch failed', { error: checkError })
      return 'lost' as const
    })
    for (const p of partitions) this.#claimed.delete(partitionKey(p.topic, p.partition))
    if (check !== 'current') {
      this.#logger.info(
        'the batch was refused because this process lost partitions; going on with the rest',
        {
          owner: describeOwner(lease.owner),
          group: check,
          code: failure.code,
          reason: failure.message,
        },
      )
      return true
    }
    // The coordinator says the partitions are still ours, yet the store says another owner
    // claimed them: a claim raced a rebalance, or the group was recreated with lower
    // generations. Claim them again (once); a second refusal is a real conflict.
    if (failure.code !== ErrorCodes.PARTITIONS_REVOKED) return false
    const keys = partitions.map((p) => partitionKey(p.topic, p.partition))
    const repeated = partitions.filter((_, i) => this.#reclaimed.has(keys[i]!))
    if (repeated.length > 0) throw this.#conflict(lease, repeated, failure)
    for (const key of keys) this.#reclaimed.add(key)
    return true
  }

  /** Another deployment keeps taking partitions that the coordinator says are this process's. */
  #conflict(lease: OwnershipLease, partitions: readonly TopicPartition[], cause?: SluiceError): SluiceError {
    const names = partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')
    return new SluiceError(
      ErrorCodes.FENCED,
      `the offset store of app '${this.store.app}' keeps giving ${names} to another owner while the group ` +
        `coordinator says they belong to ${describeOwner(lease.owner)}: another deployment (another group, or a ` +
        'static split) writes the same app; stop one of them',
      { ...(cause === undefined ? {} : { cause }), details: { partitions } },
    )
  }

  topicsChanged(topics: readonly string[], partitionCounts: ReadonlyMap<string, number>): void {
    this.ownership.topicsChanged(topics, partitionCounts)
  }

  close(): Promise<void> {
    return this.ownership.close()
  }

  async #claim(
    lease: OwnershipLease,
    partitions: readonly TopicPartition[],
    startOffsets: (partitions: readonly TopicPartition[]) => Promise<ReadonlyMap<string, bigint>>,
  ): Promise<Map<string, bigint>> {
    const starts = await startOffsets(partitions)
    const claims = (list: readonly TopicPartition[]) =>
      list.map((p) => ({ ...p, startOffset: starts.get(partitionKey(p.topic, p.partition))! }))
    const result = await this.store.claimPartitions(lease.owner, claims(partitions))
    const positions = new Map(result.positions)
    if (result.overtaken.length > 0) {
      const forced = await this.#takeOver(lease, result.overtaken)
      if (forced.length > 0) {
        const again = await this.store.claimPartitions(lease.owner, claims(forced), { force: true })
        for (const [key, offset] of again.positions) positions.set(key, offset)
      }
    }
    for (const key of positions.keys()) this.#claimed.add(key)
    return positions
  }

  /**
   * Partitions a higher generation holds in the store: left alone when this process's lease is
   * not current (the coordinator will reassign), taken over once when it is (the group was
   * recreated, its generations started again), a real conflict the second time — and for a
   * static split always final: a newer deployment replaced this process.
   */
  async #takeOver(lease: OwnershipLease, overtaken: readonly TopicPartition[]): Promise<TopicPartition[]> {
    const names = overtaken.map((p) => `${p.topic}-${p.partition}`).join(', ')
    if (!this.ownership.movesPartitions) {
      throw new SluiceError(
        ErrorCodes.FENCED,
        `${describeOwner(lease.owner)} cannot claim ${names}: the offset store of app '${this.store.app}' says a ` +
          'newer deployment (a higher epoch) owns them; this process belongs to a replaced deployment and must stop',
        { details: { partitions: overtaken, epoch: lease.owner.generation } },
      )
    }
    const check = await this.ownership.check(lease)
    if (check !== 'current') return []
    const repeated = overtaken.filter((p) => this.#forced.has(partitionKey(p.topic, p.partition)))
    if (repeated.length > 0) throw this.#conflict(lease, repeated)
    this.#logger.warn(
      'the offset store holds a newer owner generation than the group coordinator has: taking the partitions over ' +
        '(the group was recreated after it expired, which starts its generations again)',
      { owner: describeOwner(lease.owner), partitions: names },
    )
    for (const p of overtaken) this.#forced.add(partitionKey(p.topic, p.partition))
    return [...overtaken]
  }
}

/** The ownership-related SluiceError in `error` or its causes, if any. */
function ownershipFailure(error: unknown): SluiceError | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof SluiceError && ownershipCodes.has(current.code)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
