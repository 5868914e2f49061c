import type { PartitionOwner } from '../kafka/partition-owner.ts'

/** What a process may read and write for one batch: its partitions, under its fencing token. */
export interface OwnershipLease {
  readonly owner: PartitionOwner
  /** Whether the process owns a partition under this lease. */
  owns(topic: string, partition: number): boolean
  /**
   * Aborts when the process must give the partitions up before the batch ends: a rebalance
   * could not wait any longer, or the group dropped the member. A sink rolls the batch back then.
   */
  readonly signal: AbortSignal
}

/** What the coordinator says about the process's current token, when a batch was refused. */
export type OwnershipCheck = 'current' | 'rebalancing' | 'lost'

/**
 * How a stream's partitions are shared between processes: by a Kafka consumer group
 * (`GroupOwnership`) or a fixed split (`StaticSplitOwnership`). The stream takes a lease for
 * each batch it plans and ends it when the batch is done, so that a rebalance can wait for
 * the batch in flight.
 */
export interface PartitionOwnership {
  /** For messages and the stream's position: `group 'wc' (member ..., generation 4)`. */
  readonly description: string
  /**
   * Whether partitions move between processes while they run (a group). When they do not (a
   * static split), a batch refused for its owner means this process was replaced: it stops.
   */
  readonly movesPartitions: boolean
  /** Joins (the group) with the topics the subscription matches now; resolves with the first lease possible. */
  start(topics: readonly string[]): Promise<void>
  /**
   * Waits until the partitions are settled (no rebalance under way) and marks a batch in
   * flight under the returned lease, until `endBatch`.
   */
  beginBatch(): Promise<OwnershipLease>
  endBatch(): void
  /**
   * The subscription matches other topics now (a pattern), or a topic has more partitions:
   * ask for a new assignment. Does not wait for it.
   */
  topicsChanged(topics: readonly string[], partitionCounts: ReadonlyMap<string, number>): void
  /** Asks the coordinator whether the lease's token is still current. */
  check(lease: OwnershipLease): Promise<OwnershipCheck>
  close(): Promise<void>
}
