import { partitionKey } from '../core/partition-key.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { PartitionOffset, TopicPartition } from '../kafka/types.ts'
import { type BatchRateLimits, planBatchRanges } from '../scheduler/batch-size-limit.ts'
import type { KafkaPlan } from './kafka-plan.ts'

/** Everything the direct stream knows when it plans a batch. */
export interface KafkaPlanningInput {
  /** The subscription's partitions now, sorted. */
  readonly partitions: readonly TopicPartition[]
  /** Log start and latest offset (last stable under read_committed), index-aligned with `partitions`. */
  readonly logStarts: readonly bigint[]
  readonly logEnds: readonly bigint[]
  /** Next offset to read per known partition (`partitionKey`), parked ones included. */
  readonly positions: ReadonlyMap<string, PartitionOffset>
  /** Whether the subscription covers a partition (a parked partition is one it no longer covers). */
  readonly owns: (topic: string, partition: number) => boolean
  /** Limits from rate control; `estimatedRate` is the backpressure rate, if any. */
  readonly limits: BatchRateLimits
}

/** A partition whose position lies outside its log now. */
export interface PositionProblem {
  readonly topic: string
  readonly partition: number
  /** 'deleted': retention removed [position, logStart); 'shrunk': the log ends before the position. */
  readonly kind: 'deleted' | 'shrunk'
  readonly position: bigint
  readonly logStart: bigint
  readonly logEnd: bigint
}

export interface KafkaPlanningResult {
  /** The plan, if the problems are skipped over (failOnDataLoss: false). */
  readonly plan: KafkaPlan
  /** Positions after the batch: until-offsets of the planned ranges, and the parked ones. */
  readonly positions: Map<string, PartitionOffset>
  /** Positions outside their log; with failOnDataLoss they fail the batch instead. */
  readonly problems: readonly PositionProblem[]
  /** Positions dropped because their partition no longer exists though the subscription covers it (a deleted topic). */
  readonly forgotten: readonly PartitionOffset[]
}

/**
 * Plans a direct-stream batch, as a pure function of what the cluster said. Each partition
 * of the subscription reads from its position (a partition without one, new since the last
 * batch, from its log start) to its latest offset, limited by rate control. A position that
 * retention overtook skips to the log start, and the skipped offsets become the batch's lost
 * range; a position past the log end continues from the log end. Partitions the
 * subscription stopped covering keep their position, parked, for when it covers them again.
 */
export function planKafkaBatch(input: KafkaPlanningInput): KafkaPlanningResult {
  const problems: PositionProblem[] = []
  const lost: OffsetRange[] = []
  const discovered = new Set<string>()
  const starts = input.partitions.map((p, i) => {
    const key = partitionKey(p.topic, p.partition)
    discovered.add(key)
    const logStart = input.logStarts[i]!
    const logEnd = input.logEnds[i]!
    let from = input.positions.get(key)?.offset ?? logStart
    if (from < logStart) {
      problems.push({ ...p, kind: 'deleted', position: from, logStart, logEnd })
      lost.push(OffsetRange.create(p.topic, p.partition, from, logStart))
      from = logStart
    }
    if (from > logEnd) {
      problems.push({ ...p, kind: 'shrunk', position: from, logStart, logEnd })
      from = logEnd
    }
    return { topic: p.topic, partition: p.partition, fromOffset: from, latestOffset: logEnd }
  })
  const planned = planBatchRanges(starts, input.limits)
  const positions = new Map<string, PartitionOffset>()
  const ranges = planned.map((r, i) => {
    positions.set(partitionKey(r.topic, r.partition), {
      topic: r.topic,
      partition: r.partition,
      offset: r.untilOffset,
    })
    return {
      range: OffsetRange.create(r.topic, r.partition, r.fromOffset, r.untilOffset),
      latestOffset: starts[i]!.latestOffset,
    }
  })
  const parked: PartitionOffset[] = []
  const forgotten: PartitionOffset[] = []
  for (const [key, position] of input.positions) {
    if (discovered.has(key)) continue
    if (input.owns(position.topic, position.partition)) forgotten.push(position)
    else {
      parked.push(position)
      positions.set(key, position)
    }
  }
  return {
    plan: {
      ranges,
      lost,
      parked: parked.sort((a, b) =>
        a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
      ),
      rateLimit: rateLimitOf(input.limits, input.partitions.length),
      lostRecords: 0,
      v1SharedRanges: false,
    },
    positions,
    problems,
    forgotten,
  }
}

/**
 * The stream-wide limit in force: the smaller of the backpressure rate and
 * `maxRatePerPartition` × partitions; null when neither applies.
 */
export function rateLimitOf(limits: BatchRateLimits, partitions: number): number | null {
  const caps: number[] = []
  if (limits.estimatedRate !== undefined && limits.estimatedRate > 0) caps.push(limits.estimatedRate)
  if (limits.maxRatePerPartition > 0 && partitions > 0) caps.push(limits.maxRatePerPartition * partitions)
  return caps.length === 0 ? null : Math.min(...caps)
}
