import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { TopicPartition } from '../kafka/types.ts'

/** A partition a process is about to take over, with where it starts when nothing is stored for it. */
export interface PartitionClaim extends TopicPartition {
  /** The position `startingOffsets` gives the partition; used only when the store has none. */
  readonly startOffset: bigint
}

/** What a claim found. */
export interface ClaimResult {
  /** Where each claimed partition resumes (`partitionKey`): the stored offset, or its start offset. */
  readonly positions: ReadonlyMap<string, bigint>
  /** Partitions a newer owner holds (a higher generation is stored): not claimed. */
  readonly overtaken: readonly TopicPartition[]
}

/**
 * A sink that keeps the stream's offsets with its output can be the offset store of a stream
 * whose partitions are shared by several processes: positions of a partition a process takes
 * over come from it, and it fences the process that had the partition before.
 *
 * `claimPartitions` makes `owner` the owner of the partitions and returns where each resumes.
 * It returns only once no earlier owner can still write them: the SQL sink raises the stored
 * owner generation (waiting for the old owner's open transaction on those rows); the Kafka
 * sink reads the group's offsets with requireStable (waiting for the old owner's open
 * transaction to end). With `force`, a higher stored generation is taken over too — only for
 * an owner the group coordinator has just confirmed as current.
 */
export interface PartitionOffsetStore {
  readonly app: string
  /** Connects (idempotent): the stream starts its offset store before the first claim. */
  start(): Promise<void>
  /**
   * Refuses, at construction of the stream, a use it cannot serve (the Kafka sink: offsets in
   * another group than the stream's, a transactional id every process would share). Throws an
   * option error naming the setting.
   */
  checkSharedUse?(sharing: { readonly groupId?: string | undefined; readonly split: boolean }): void
  claimPartitions(
    owner: PartitionOwner,
    claims: readonly PartitionClaim[],
    options?: { readonly force?: boolean },
  ): Promise<ClaimResult>
}

/** True for a value with the offset store's methods (the SQL and Kafka sinks). */
export function isPartitionOffsetStore(value: unknown): value is PartitionOffsetStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { claimPartitions?: unknown }).claimPartitions === 'function' &&
    typeof (value as { app?: unknown }).app === 'string'
  )
}
