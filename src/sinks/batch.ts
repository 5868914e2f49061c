import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'

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
  return [...batch.offsetRanges].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  )
}
