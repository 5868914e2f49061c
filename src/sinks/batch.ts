import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { DeadLetters } from '../kafka/dead-letters.ts'
import type { PartitionOwner } from '../kafka/partition-owner.ts'

/** One Kafka partition's share of a batch: offsets `fromOffset <= offset < untilOffset`. */
export interface SinkOffsetRange {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  readonly untilOffset: bigint
}

/**
 * What a sink needs to know about a batch. The stream passes objects of this shape; sinks
 * depend on nothing else of the engine, so they can be used (and tested) on their own.
 */
export interface SinkBatch {
  /** Batch id, monotonically increasing. */
  readonly id: number
  /** Batch time, ms since epoch. */
  readonly time: number
  readonly offsetRanges: readonly SinkOffsetRange[]
  /** True when this is a re-run of a planned-but-uncommitted batch after a restart. */
  readonly replay: boolean
  /**
   * Offsets the stream skipped on purpose (`failOnDataLoss: false`): retention deleted them
   * before they were read. A lost range ends where the partition's batch range starts (the
   * stream jumped to the log start) or lies inside it (a re-run found part of its range
   * deleted). The sink advances over them instead of reporting a gap, and records them.
   */
  readonly lostRanges?: readonly SinkOffsetRange[]
  /**
   * When processes share the stream's partitions: who may write them. The SQL sink requires
   * the stored owner of every partition to be this one; the Kafka sink commits the offsets
   * with it, and the group coordinator refuses them from a member of an older generation.
   */
  readonly owner?: PartitionOwner | undefined
  /**
   * Aborts when the batch must not be written after all (a forced stop, or its partitions
   * being taken away): the sink rolls back instead of committing.
   */
  readonly signal?: AbortSignal | undefined
  /**
   * The batch's records that could not be deserialized, bound for a dead-letter topic
   * (`onDeserializationError: { deadLetterTopic }`). The Kafka sink sends the ones found by the
   * time the write function returns inside the batch's transaction — exactly once — and marks
   * them sent; the stream sends whatever is left before it commits (at least once).
   */
  readonly deadLetters?: DeadLetters
}

export function describeRange(range: SinkOffsetRange): string {
  return `${range.topic}-${range.partition} [${range.fromOffset}, ${range.untilOffset})`
}

function invalidBatch(batch: { id?: unknown }, problem: string): SluiceError {
  const id = typeof batch?.id === 'number' ? `batch ${batch.id}` : 'a batch'
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, `${id} handed to the sink is malformed: ${problem}`, {
    details: { batchId: batch?.id },
  })
}

/**
 * Checks a batch before any work: a malformed one (from > until, negative or non-bigint
 * offsets, a partition twice) would otherwise store nonsense offsets. Returns the ranges
 * sorted by topic and partition — the order rows are locked in, so that two instances
 * writing the same batch queue up instead of deadlocking.
 */
export function checkBatch(batch: SinkBatch): SinkOffsetRange[] {
  if (batch === null || typeof batch !== 'object') throw invalidBatch({}, 'it is not an object')
  if (!Number.isSafeInteger(batch.id) || batch.id < 0) {
    throw invalidBatch(batch, `id must be a non-negative integer, got ${String(batch.id)}`)
  }
  if (!Number.isFinite(batch.time))
    throw invalidBatch(batch, `time must be ms since epoch, got ${String(batch.time)}`)
  if (typeof batch.replay !== 'boolean') throw invalidBatch(batch, 'replay must be true or false')
  if (!Array.isArray(batch.offsetRanges)) throw invalidBatch(batch, 'offsetRanges must be an array')
  const seen = new Set<string>()
  for (const range of batch.offsetRanges) {
    const { topic, partition, fromOffset, untilOffset } = range
    if (typeof topic !== 'string' || topic === '' || !Number.isInteger(partition) || partition < 0) {
      throw invalidBatch(
        batch,
        `a range has topic ${JSON.stringify(topic)} and partition ${String(partition)}`,
      )
    }
    if (typeof fromOffset !== 'bigint' || typeof untilOffset !== 'bigint') {
      throw invalidBatch(batch, `offsets of ${topic}-${partition} must be bigints`)
    }
    if (fromOffset < 0n || untilOffset < fromOffset) {
      throw invalidBatch(batch, `${describeRange(range)} is not a range (0 <= from <= until)`)
    }
    const key = partitionKey(topic, partition)
    if (seen.has(key)) throw invalidBatch(batch, `${topic}-${partition} appears twice`)
    seen.add(key)
  }
  checkLostRanges(batch, seen)
  return [...batch.offsetRanges].sort(byPartition)
}

/** Topic, then partition order: the order ranges are locked and listed in. */
export function byPartition(
  a: { readonly topic: string; readonly partition: number },
  b: { readonly topic: string; readonly partition: number },
): number {
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1
}

/**
 * Lost ranges must be real ranges of partitions the batch reads, must not overlap, and must
 * not reach past the batch's until-offset: the sink trusts them to explain a gap.
 */
function checkLostRanges(batch: SinkBatch, partitions: ReadonlySet<string>): void {
  if (batch.lostRanges === undefined) return
  if (!Array.isArray(batch.lostRanges)) throw invalidBatch(batch, 'lostRanges must be an array')
  const untilOf = new Map(batch.offsetRanges.map((r) => [partitionKey(r.topic, r.partition), r.untilOffset]))
  const sorted = [...batch.lostRanges].sort((a, b) =>
    byPartition(a, b) !== 0 ? byPartition(a, b) : a.fromOffset < b.fromOffset ? -1 : 1,
  )
  let previous: SinkOffsetRange | undefined
  for (const lost of sorted) {
    const { topic, partition, fromOffset, untilOffset } = lost ?? {}
    if (typeof fromOffset !== 'bigint' || typeof untilOffset !== 'bigint' || fromOffset < 0n) {
      throw invalidBatch(batch, `a lost range of ${topic}-${partition} must have non-negative bigint offsets`)
    }
    if (!partitions.has(partitionKey(lost.topic, lost.partition))) {
      throw invalidBatch(batch, `lost range ${describeRange(lost)} is of a partition the batch does not read`)
    }
    if (untilOffset <= fromOffset || untilOffset > untilOf.get(partitionKey(lost.topic, lost.partition))!) {
      throw invalidBatch(
        batch,
        `lost range ${describeRange(lost)} must be non-empty and end at or before the batch's until-offset`,
      )
    }
    if (previous !== undefined && byPartition(previous, lost) === 0 && previous.untilOffset > fromOffset) {
      throw invalidBatch(batch, `lost ranges ${describeRange(previous)} and ${describeRange(lost)} overlap`)
    }
    previous = lost
  }
}

/** The batch's lost ranges of `range`'s partition, in offset order. */
export function lostRangesOf(batch: SinkBatch, range: SinkOffsetRange): SinkOffsetRange[] {
  return (batch.lostRanges ?? [])
    .filter((lost) => lost.topic === range.topic && lost.partition === range.partition)
    .sort((a, b) => (a.fromOffset < b.fromOffset ? -1 : 1))
}
