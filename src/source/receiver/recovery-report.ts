import { partitionKey } from '../../core/partition-key.ts'
import { OffsetRange } from '../../kafka/offset-range.ts'
import type { PartitionOffset } from '../../kafka/types.ts'
import { coveredRanges, type ReceivedBlock } from './received-block.ts'

/**
 * What a restart of a receiver stream costs, worked out before the receiver reads anything:
 * the consumer group resumes at its committed offsets, and the difference between those and
 * what the previous run had already taken in is the price of each mode.
 *
 * Counts come from offset arithmetic: on a topic with gaps (compaction, transaction markers)
 * they are upper bounds.
 */
export interface RecoveryReport {
  /**
   * Records that will be processed twice (reliable mode): logged in the write-ahead log by
   * the run that died, but not yet committed to the group.
   */
  readonly redelivered: readonly OffsetRange[]
  readonly redeliveredRecords: number
  /**
   * Records that will never be processed (without the log only): auto-committed to the group
   * but held only in the memory of the process that died.
   */
  readonly lost: readonly OffsetRange[]
  readonly lostRecords: number
}

export const NOTHING_TO_REPORT: RecoveryReport = Object.freeze({
  redelivered: [],
  redeliveredRecords: 0,
  lost: [],
  lostRecords: 0,
})

/**
 * Reliable mode. The group resumes at `committed`: the records of the previous run's logged
 * blocks at or past it come again, and are processed twice — once from the log, once as
 * delivered anew. Only the previous run's blocks count: what an earlier run logged past the
 * committed offsets was counted when that run's successor started, and each record is
 * delivered again once per run that died holding it uncommitted. `resumePositions` says where
 * the group resumes each partition (its committed offset, or where a partition without one
 * starts); a partition without a known position is not judged.
 */
export function reliableRecovery(
  previousRun: Iterable<ReceivedBlock>,
  resumePositions: ReadonlyMap<string, PartitionOffset>,
): RecoveryReport {
  const redelivered: OffsetRange[] = []
  for (const [key, ranges] of coveredRanges(previousRun)) {
    const resumeAt = resumePositions.get(key)?.offset
    if (resumeAt === undefined) continue
    for (const range of ranges) {
      if (range.untilOffset <= resumeAt) continue
      const from = laterOf(range.fromOffset, resumeAt)
      redelivered.push(OffsetRange.create(range.topic, range.partition, from, range.untilOffset))
    }
  }
  return { redelivered, redeliveredRecords: countOf(redelivered), lost: [], lostRecords: 0 }
}

/**
 * Without the log. Every offset below `accountedUntil` was handed to a batch that committed,
 * or counted as lost by an earlier start. The group resumes at its committed offsets: what
 * lies between the two was auto-committed and never processed — lost. (Offsets below both come again and
 * are processed twice; without a log of what each run took in, how often cannot be told, so
 * they are not predicted.) Partitions the checkpoint knows nothing of are not judged.
 */
export function unreliableRecovery(
  accountedUntil: ReadonlyMap<string, PartitionOffset>,
  resumePositions: ReadonlyMap<string, PartitionOffset>,
): RecoveryReport {
  const lost: OffsetRange[] = []
  for (const [key, accounted] of accountedUntil) {
    const resumeAt = resumePositions.get(key)?.offset
    if (resumeAt === undefined || resumeAt <= accounted.offset) continue
    lost.push(OffsetRange.create(accounted.topic, accounted.partition, accounted.offset, resumeAt))
  }
  return { redelivered: [], redeliveredRecords: 0, lost, lostRecords: countOf(lost) }
}

/**
 * Per partition, where what committed batches took (or earlier starts counted lost) ends: the
 * start of the pending batch's blocks where it has some (they died with the process), or
 * else the checkpointed position.
 */
export function accountedUntilOf(
  accountedUntil: readonly PartitionOffset[],
  pendingBlocks: readonly ReceivedBlock[],
): Map<string, PartitionOffset> {
  const until = new Map(accountedUntil.map((p) => [partitionKey(p.topic, p.partition), p]))
  for (const block of pendingBlocks) {
    for (const span of block.spans) {
      const key = partitionKey(span.topic, span.partition)
      const known = until.get(key)
      if (known === undefined || span.fromOffset < known.offset) {
        until.set(key, { topic: span.topic, partition: span.partition, offset: span.fromOffset })
      }
    }
  }
  return until
}

/**
 * Where accounting stands once a start counted its losses: past the lost records (the run
 * resumes where the group does), or where batches had got to when Kafka delivers some again.
 * A partition accounting knew nothing of starts where the group resumes it.
 */
export function accountedAfterStart(
  accounted: ReadonlyMap<string, PartitionOffset>,
  resumePositions: ReadonlyMap<string, PartitionOffset>,
): Map<string, PartitionOffset> {
  const next = new Map(accounted)
  for (const [key, resume] of resumePositions) {
    const position = accounted.get(key)
    if (position === undefined || resume.offset > position.offset) next.set(key, resume)
  }
  return next
}

function countOf(ranges: readonly OffsetRange[]): number {
  return ranges.reduce((sum, range) => sum + range.count, 0)
}

function laterOf(a: bigint, b: bigint): bigint {
  if (a > b) return a
  return b
}
