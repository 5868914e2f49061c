import type { JsonObject, JsonValue } from '../checkpoint/json-value.ts'
import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { PartitionOffset } from '../kafka/types.ts'

/** A planned range, with the partition's latest offset seen when it was planned. */
export interface PlannedRange {
  readonly range: OffsetRange
  /** The latest offset (last stable under read_committed) when planned; unknown in upgraded format-1 plans. */
  readonly latestOffset: bigint | undefined
}

/**
 * The direct stream's plan of one batch, as the checkpoint keeps it (inputs of kind
 * 'kafka-direct'). On disk it is plain JSON with offsets as decimal strings:
 *
 *   { "ranges": [{ "topic": "words", "partition": 0, "fromOffset": "100", "untilOffset": "200",
 *                  "latestOffset": "250" }],
 *     "lost":   [{ "topic": "words", "partition": 1, "fromOffset": "40", "untilOffset": "90" }],
 *     "parked": [{ "topic": "old-words", "partition": 0, "offset": "77" }],
 *     "rateLimit": 1500 }
 *
 * Everything but `ranges` is optional. Tools that show or reset a checkpoint read it with
 * `decodeKafkaPlan` and write it with `encodeKafkaPlan`.
 */
export interface KafkaPlan {
  /** What the batch reads: one range per partition of the subscription. */
  readonly ranges: readonly PlannedRange[]
  /**
   * What retention deleted before the stream read it and the batch skips (failOnDataLoss:
   * false). A partition's lost range ends where its range begins.
   */
  readonly lost: readonly OffsetRange[]
  /**
   * Where partitions the subscription no longer covers stopped (a topic dropped from
   * `subscribe`): kept so that a topic added back resumes there instead of at startingOffsets.
   */
  readonly parked: readonly PartitionOffset[]
  /** Stream-wide records/s limit in force when planned; null: unlimited. */
  readonly rateLimit: number | null
  /** Lost records counted by a format-1 checkpoint, which kept no lost ranges. */
  readonly lostRecords: number
  /** A format-1 plan of a job with several inputs: the ranges of every input, to be filtered by subscription. */
  readonly v1SharedRanges: boolean
  /** When processes share the partitions: the owner the batch was planned under. */
  readonly owner?: PartitionOwner | undefined
}

export function encodeKafkaPlan(plan: KafkaPlan): JsonObject {
  return {
    ranges: plan.ranges.map(({ range, latestOffset }) => ({
      ...rangeJson(range),
      ...(latestOffset === undefined ? {} : { latestOffset: latestOffset.toString() }),
    })),
    ...(plan.lost.length === 0 ? {} : { lost: plan.lost.map(rangeJson) }),
    ...(plan.parked.length === 0
      ? {}
      : {
          parked: plan.parked.map((p) => ({
            topic: p.topic,
            partition: p.partition,
            offset: p.offset.toString(),
          })),
        }),
    ...(plan.rateLimit === null ? {} : { rateLimit: plan.rateLimit }),
    ...(plan.lostRecords > 0 ? { lostRecords: plan.lostRecords } : {}),
    ...(plan.v1SharedRanges ? { v1SharedRanges: true } : {}),
    ...(plan.owner === undefined ? {} : { owner: ownerJson(plan.owner) }),
  }
}

function ownerJson(owner: PartitionOwner): JsonObject {
  return {
    kind: owner.kind,
    groupId: owner.groupId,
    generation: owner.generation,
    memberId: owner.memberId,
    ...(owner.instanceId === undefined ? {} : { instanceId: owner.instanceId }),
  }
}

function decodeOwner(value: JsonValue): PartitionOwner {
  const owner = object(value, 'owner')
  const { kind, groupId, generation, memberId, instanceId } = owner
  if (kind !== 'group' && kind !== 'split')
    throw malformed(`'owner.kind' must be 'group' or 'split', got ${describeValue(kind)}`)
  if (typeof groupId !== 'string' || typeof memberId !== 'string') {
    throw malformed("'owner.groupId' and 'owner.memberId' must be strings")
  }
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation)) {
    throw malformed(`'owner.generation' must be an integer, got ${describeValue(generation)}`)
  }
  if (instanceId !== undefined && typeof instanceId !== 'string')
    throw malformed("'owner.instanceId' must be a string")
  return { kind, groupId, generation, memberId, ...(instanceId === undefined ? {} : { instanceId }) }
}

/** Reads a plan back; a malformed one fails naming the field. */
export function decodeKafkaPlan(json: JsonValue): KafkaPlan {
  const plan = object(json, 'the plan')
  const ranges = array(plan.ranges, 'ranges').map((value, i): PlannedRange => {
    const range = object(value, `ranges[${i}]`)
    return {
      range: offsetRange(range, `ranges[${i}]`),
      latestOffset:
        range.latestOffset === undefined
          ? undefined
          : offset(range.latestOffset, `ranges[${i}].latestOffset`),
    }
  })
  const lost = (plan.lost === undefined ? [] : array(plan.lost, 'lost')).map((value, i) =>
    offsetRange(object(value, `lost[${i}]`), `lost[${i}]`),
  )
  const parked = (plan.parked === undefined ? [] : array(plan.parked, 'parked')).map((value, i) => {
    const p = object(value, `parked[${i}]`)
    const at = p.offset ?? null
    const range = offsetRange(
      { topic: p.topic ?? null, partition: p.partition ?? null, fromOffset: at, untilOffset: at },
      `parked[${i}]`,
    )
    return { topic: range.topic, partition: range.partition, offset: range.fromOffset }
  })
  const { rateLimit, lostRecords = 0, v1SharedRanges = false } = plan
  if (rateLimit !== undefined && rateLimit !== null && !(typeof rateLimit === 'number' && rateLimit >= 0)) {
    throw malformed(`'rateLimit' must be a non-negative number, got ${describeValue(rateLimit)}`)
  }
  if (typeof lostRecords !== 'number' || !Number.isSafeInteger(lostRecords) || lostRecords < 0) {
    throw malformed(`'lostRecords' must be a non-negative integer, got ${describeValue(lostRecords)}`)
  }
  if (typeof v1SharedRanges !== 'boolean') {
    throw malformed(`'v1SharedRanges' must be a boolean, got ${describeValue(v1SharedRanges)}`)
  }
  return {
    ranges,
    lost,
    parked,
    rateLimit: rateLimit ?? null,
    lostRecords,
    v1SharedRanges,
    ...(plan.owner === undefined ? {} : { owner: decodeOwner(plan.owner) }),
  }
}

function rangeJson(range: OffsetRange): JsonObject {
  return { ...range.toJSON() }
}

function malformed(problem: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, `a Kafka plan is malformed: ${problem}`)
}

function object(value: JsonValue | undefined, path: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw malformed(`${path} must be an object, got ${describeValue(value)}`)
  }
  return value
}

function array(value: JsonValue | undefined, path: string): JsonValue[] {
  if (!Array.isArray(value)) throw malformed(`'${path}' must be an array, got ${describeValue(value)}`)
  return value
}

function offset(value: JsonValue | undefined, path: string): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value)) {
    throw malformed(`'${path}' must be a decimal string (an offset), got ${describeValue(value)}`)
  }
  return BigInt(value)
}

function offsetRange(value: JsonObject, path: string): OffsetRange {
  const from = offset(value.fromOffset, `${path}.fromOffset`)
  const until = offset(value.untilOffset, `${path}.untilOffset`)
  try {
    return OffsetRange.create(value.topic as string, value.partition as number, from, until)
  } catch (error) {
    throw malformed(`${path}: ${messageOf(error)}`)
  }
}
