import type { CheckpointView } from '../checkpoint/checkpoint-reader.ts'
import type { JsonValue } from '../checkpoint/json-value.ts'
import type { PlannedBatch } from '../checkpoint/planned-batch.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import { decodeKafkaPlan, type KafkaPlan } from '../source/kafka-plan.ts'

/** The kind of input whose plans are Kafka offset ranges (the direct stream). */
export const KAFKA_DIRECT = 'kafka-direct'

/** Where one partition of a Kafka input stands in a checkpoint. */
export interface PartitionPosition {
  readonly topic: string
  readonly partition: number
  /**
   * The next offset the job reads there when it restarts: the from-offset of the pending
   * batch's range (it is re-run), else the until-offset of the newest batch's.
   */
  readonly position: bigint
  /** The subscription no longer covers the partition: its position is kept for when it does again. */
  readonly parked: boolean
  /** The range the pending batch reads again on restart. */
  readonly pendingRange?: OffsetRange
  /** The partition's latest offset when the newest batch was planned. */
  readonly latestSeen?: bigint
}

/** One input of a checkpoint, as its newest batch leaves it. */
export interface InputPositions {
  readonly name: string
  readonly kind: string
  /** Kafka inputs only: every partition with a position, in topic and partition order. */
  readonly partitions: readonly PartitionPosition[]
  /** The Kafka plan of the newest batch (Kafka inputs only). */
  readonly plan?: KafkaPlan
  /** The records/s limit in force when the newest batch was planned (Kafka inputs only). */
  readonly rateLimit?: number | null
  /** The input's soft state saved with the newest batch. */
  readonly state?: JsonValue
}

/** Every input of the checkpoint's newest batch, in name order; none for a checkpoint without batches. */
export function inputPositions(view: CheckpointView): InputPositions[] {
  return view.lastPlanned === undefined
    ? []
    : positionsAfter(view.lastPlanned, view.pending !== undefined, view.dir)
}

/**
 * Every input of `latest` (the newest logged batch; `pending` when it is not committed), in
 * name order, with the position each resumes from.
 */
export function positionsAfter(latest: PlannedBatch, pending: boolean, dir: string): InputPositions[] {
  return Object.entries(latest.inputs)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, input]) => {
      const base = { name, kind: input.kind, ...(input.state === undefined ? {} : { state: input.state }) }
      if (input.kind !== KAFKA_DIRECT || input.plan === undefined) return { ...base, partitions: [] }
      const plan = kafkaPlanOf(dir, latest, name)
      return { ...base, plan, rateLimit: plan.rateLimit, partitions: partitionPositions(plan, pending) }
    })
}

/** Reads an input's Kafka plan, naming the batch file when it cannot. */
function kafkaPlanOf(dir: string, batch: PlannedBatch, input: string): KafkaPlan {
  try {
    return decodeKafkaPlan(batch.inputs[input]!.plan!)
  } catch (error) {
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `the plan of input '${input}' in batch ${batch.batchId} of checkpoint '${dir}' cannot be read: ${messageOf(error)}`,
      { cause: error, details: { dir, batchId: batch.batchId, input } },
    )
  }
}

function partitionPositions(plan: KafkaPlan, pending: boolean): PartitionPosition[] {
  const positions: PartitionPosition[] = plan.ranges.map(({ range, latestOffset }) => ({
    topic: range.topic,
    partition: range.partition,
    position: pending ? range.fromOffset : range.untilOffset,
    parked: false,
    ...(pending ? { pendingRange: range } : {}),
    ...(latestOffset === undefined ? {} : { latestSeen: latestOffset }),
  }))
  for (const p of plan.parked) {
    positions.push({ topic: p.topic, partition: p.partition, position: p.offset, parked: true })
  }
  return positions.sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  )
}
