import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import { openBatchEntry } from './batch-entry.ts'
import { assertJsonObject, type JsonObject } from './json-value.ts'
import { seal } from './sealed-json.ts'

/**
 * The checkpoint's own view of an offset range. It is deliberately local: the checkpoint
 * sits below the Kafka source and must not import it; the source converts at the edge.
 * `fromOffset` is inclusive, `untilOffset` exclusive.
 */
export interface CheckpointRange {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  readonly untilOffset: bigint
}

/** One offset log entry: what batch `batchId` reads, recorded before any of its tasks run. */
export interface PlannedBatch {
  readonly batchId: number
  /** The batch's scheduled time, in milliseconds since the epoch. */
  readonly batchTime: number
  readonly ranges: readonly CheckpointRange[]
  /** Extra plain-JSON state saved with the plan (rate estimator state, lost-record counts...). */
  readonly metadata?: JsonObject
}

function invalidBatch(batchId: unknown, problem: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, `planned batch ${describeValue(batchId)}: ${problem}`, {
    details: { batchId },
  })
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Refuses a batch that could not be read back faithfully, before anything touches the disk. */
export function assertValidPlannedBatch(batch: PlannedBatch): void {
  const { batchId, batchTime, ranges, metadata } = batch
  if (!isNonNegativeInteger(batchId)) {
    throw invalidBatch(batchId, `batchId must be a non-negative integer, got ${describeValue(batchId)}`)
  }
  if (!isNonNegativeInteger(batchTime)) {
    throw invalidBatch(
      batchId,
      `batchTime must be a non-negative integer (ms), got ${describeValue(batchTime)}`,
    )
  }
  if (!Array.isArray(ranges))
    throw invalidBatch(batchId, `ranges must be an array, got ${describeValue(ranges)}`)
  const seen = new Set<string>()
  ranges.forEach((range: CheckpointRange, i) => {
    const { topic, partition, fromOffset, untilOffset } = range
    if (typeof topic !== 'string' || topic === '') {
      throw invalidBatch(
        batchId,
        `ranges[${i}].topic must be a non-empty string, got ${describeValue(topic)}`,
      )
    }
    if (!isNonNegativeInteger(partition)) {
      throw invalidBatch(
        batchId,
        `ranges[${i}].partition must be a non-negative integer, got ${describeValue(partition)}`,
      )
    }
    for (const [name, offset] of [
      ['fromOffset', fromOffset],
      ['untilOffset', untilOffset],
    ] as const) {
      if (typeof offset !== 'bigint' || offset < 0n) {
        throw invalidBatch(
          batchId,
          `ranges[${i}].${name} must be a non-negative bigint, got ${describeValue(offset)}`,
        )
      }
    }
    if (untilOffset < fromOffset) {
      throw invalidBatch(
        batchId,
        `ranges[${i}] (${topic}-${partition}) has untilOffset ${untilOffset} below fromOffset ${fromOffset}`,
      )
    }
    const key = partitionKey(topic, partition)
    if (seen.has(key)) throw invalidBatch(batchId, `ranges[${i}] repeats partition ${topic}-${partition}`)
    seen.add(key)
  })
  if (metadata !== undefined) assertJsonObject(metadata, `metadata of planned batch ${batchId}`, 'metadata')
}

/** File text for an offset log entry; offsets become decimal strings. */
export function encodePlannedBatch(batch: PlannedBatch): string {
  assertValidPlannedBatch(batch)
  return seal({
    batchId: batch.batchId,
    batchTime: batch.batchTime,
    ranges: batch.ranges.map((range) => ({
      topic: range.topic,
      partition: range.partition,
      fromOffset: range.fromOffset.toString(),
      untilOffset: range.untilOffset.toString(),
    })),
    ...(batch.metadata === undefined ? {} : { metadata: batch.metadata }),
  })
}

/** Reads an offset log entry back, checking checksum, shape and that it is the batch its name says. */
export function decodePlannedBatch(
  text: string,
  file: string,
  dir: string,
  expectedBatchId: number,
): PlannedBatch {
  const { fields, read, batchId } = openBatchEntry(text, file, dir, expectedBatchId)
  const batchTime = read.nonNegativeInteger(fields.batchTime, 'batchTime')
  const seen = new Set<string>()
  const ranges = read.array(fields.ranges, 'ranges').map((value, i): CheckpointRange => {
    const range = read.object(value, `ranges[${i}]`)
    const topic = read.nonEmptyString(range.topic, `ranges[${i}].topic`)
    const partition = read.nonNegativeInteger(range.partition, `ranges[${i}].partition`)
    const fromOffset = read.offset(range.fromOffset, `ranges[${i}].fromOffset`)
    const untilOffset = read.offset(range.untilOffset, `ranges[${i}].untilOffset`)
    if (untilOffset < fromOffset) {
      throw read.problem(`ranges[${i}] has untilOffset ${untilOffset} below fromOffset ${fromOffset}`)
    }
    const key = partitionKey(topic, partition)
    if (seen.has(key)) throw read.problem(`ranges[${i}] repeats partition ${topic}-${partition}`)
    seen.add(key)
    return { topic, partition, fromOffset, untilOffset }
  })
  const metadata = read.optionalObject(fields.metadata, 'metadata')
  return { batchId, batchTime, ranges, ...(metadata === undefined ? {} : { metadata }) }
}
