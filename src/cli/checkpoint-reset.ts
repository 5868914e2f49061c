import type { JsonObject } from '../checkpoint/json-value.ts'
import type { PlannedBatch, PlannedInput } from '../checkpoint/planned-batch.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { TopicPartition } from '../kafka/types.ts'
import { encodeKafkaPlan, type KafkaPlan } from '../source/kafka-plan.ts'
import {
  type InputPositions,
  KAFKA_DIRECT,
  type PartitionPosition,
  positionsAfter,
} from './checkpoint-positions.ts'
import { ArgumentError, UsageError } from './flags.ts'
import type { ResolvedPosition, Selection } from './reset-target.ts'
import { selects } from './reset-target.ts'

/** The newest logged batch of a checkpoint, as a reset starts from it. */
export interface ResetBase {
  readonly dir: string
  /** The newest offset log entry. */
  readonly latest: PlannedBatch
  /** Whether it is pending (planned, not committed): the reset then replaces it. */
  readonly pending: boolean
}

/** One partition a reset moves. */
export interface ResetMove {
  readonly input: string
  readonly position: PartitionPosition
}

/**
 * The partitions a reset moves: every partition of every Kafka input, or of `input` only,
 * narrowed by --topic/--partition and, for an offsets file, to the partitions it names. A
 * selection that matches nothing, an input that is not a Kafka direct stream, or a file
 * naming a partition the checkpoint does not know, fails naming what is there instead.
 */
export function selectMoves(
  base: ResetBase,
  options: {
    readonly input?: string | undefined
    readonly selection: Selection
    /** The partitions an offsets file names. */
    readonly filePartitions?: readonly TopicPartition[]
  },
): ResetMove[] {
  const inputs = positionsAfter(base.latest, base.pending, base.dir)
  const kafka = inputs.filter((input) => input.kind === KAFKA_DIRECT)
  let chosen: InputPositions[] = kafka
  if (options.input !== undefined) {
    const named = inputs.find((input) => input.name === options.input)
    if (named === undefined) {
      throw new UsageError(
        `the checkpoint has no input '${options.input}' (its inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`,
      )
    }
    if (named.kind !== KAFKA_DIRECT) {
      throw new UsageError(
        `input '${options.input}' is a ${named.kind} input: only Kafka direct streams have offsets to reset`,
      )
    }
    chosen = [named]
  }
  if (chosen.length === 0)
    throw new UsageError('the checkpoint has no Kafka direct stream input: there are no offsets to reset')
  const fileKeys =
    options.filePartitions === undefined
      ? undefined
      : new Set(options.filePartitions.map((p) => partitionKey(p.topic, p.partition)))
  const moves = chosen.flatMap((input) =>
    input.partitions
      .filter((p) => selects(options.selection, p))
      .filter((p) => fileKeys === undefined || fileKeys.has(partitionKey(p.topic, p.partition)))
      .map((position) => ({ input: input.name, position })),
  )
  if (options.filePartitions !== undefined) {
    const known = new Set(
      chosen.flatMap((input) => input.partitions.map((p) => partitionKey(p.topic, p.partition))),
    )
    const unknown = options.filePartitions.filter((p) => !known.has(partitionKey(p.topic, p.partition)))
    if (unknown.length > 0) {
      throw new ArgumentError(
        ErrorCodes.INVALID_ARGUMENT,
        `the offsets file names ${describePartitions(unknown)}, which the checkpoint has no position for ` +
          `(it knows ${describePartitions(chosen.flatMap((i) => i.partitions))})`,
      )
    }
  }
  if (moves.length === 0) {
    throw new UsageError(
      `no position matches${options.selection.topic === undefined ? '' : ` topic '${options.selection.topic}'`}` +
        `${options.selection.partition === undefined ? '' : ` partition ${options.selection.partition}`}` +
        ` (the checkpoint knows ${describePartitions(chosen.flatMap((i) => i.partitions))})`,
    )
  }
  return moves
}

function describePartitions(partitions: readonly TopicPartition[]): string {
  return partitions.map((p) => `${p.topic}-${p.partition}`).join(', ') || 'no partition'
}

/** A line of the before/after table. */
export interface ResetRow extends ResetMove {
  readonly next: ResolvedPosition
}

export interface ResetBatch {
  /** The batch to record (see CheckpointStore.writeReset). */
  readonly batch: PlannedBatch
  readonly rows: readonly ResetRow[]
}

/**
 * Builds the reset batch: it has the id of the pending batch (replacing it) or the next id,
 * and for each input of the newest batch a plan that reads nothing and leaves the input where
 * it should resume — each Kafka partition an empty range at its position (the new one for
 * the moved partitions; the from-offset of an abandoned pending range for the others), parked
 * partitions still parked. Other inputs keep their soft state and plan nothing, which by the
 * input contract means they resume from that state; a pending batch in which such an input
 * planned data cannot be abandoned safely, and is refused.
 */
export function buildResetBatch(
  base: ResetBase,
  moves: readonly ResetMove[],
  resolved: ReadonlyMap<string, ResolvedPosition>,
  now: number,
): ResetBatch {
  const { latest, pending } = base
  const moved = new Map(
    moves.map((m) => [`${m.input}\u0001${partitionKey(m.position.topic, m.position.partition)}`, m]),
  )
  const rows: ResetRow[] = []
  const inputs: Record<string, PlannedInput> = {}
  for (const input of positionsAfter(latest, pending, base.dir)) {
    const entry = latest.inputs[input.name]!
    const state = entry.state === undefined ? {} : { state: entry.state }
    if (input.kind !== KAFKA_DIRECT || input.plan === undefined) {
      if (pending && entry.plan !== undefined) {
        throw new SluiceError(
          ErrorCodes.CHECKPOINT,
          `batch ${latest.batchId} is pending and input '${input.name}' (a ${input.kind} input) planned data in it, ` +
            'which a reset cannot abandon safely; let the job commit that batch first, then reset',
          { details: { dir: base.dir, batchId: latest.batchId, input: input.name } },
        )
      }
      inputs[input.name] = { kind: entry.kind, ...state }
      continue
    }
    const positionOf = (p: PartitionPosition): { offset: bigint; latest?: bigint } => {
      const move = moved.get(`${input.name}\u0001${partitionKey(p.topic, p.partition)}`)
      if (move === undefined)
        return { offset: p.position, ...(p.latestSeen === undefined ? {} : { latest: p.latestSeen }) }
      const next = resolved.get(partitionKey(p.topic, p.partition))!
      rows.push({ ...move, next })
      const latestOffset = next.latest ?? p.latestSeen
      return { offset: next.offset, ...(latestOffset === undefined ? {} : { latest: latestOffset }) }
    }
    const plan: KafkaPlan = {
      ranges: input.partitions
        .filter((p) => !p.parked)
        .map((p) => {
          const at = positionOf(p)
          return {
            range: OffsetRange.create(p.topic, p.partition, at.offset, at.offset),
            latestOffset: at.latest,
          }
        }),
      lost: [],
      parked: input.partitions
        .filter((p) => p.parked)
        .map((p) => ({ topic: p.topic, partition: p.partition, offset: positionOf(p).offset })),
      rateLimit: input.plan.rateLimit,
      lostRecords: 0,
      v1SharedRanges: input.plan.v1SharedRanges,
    }
    inputs[input.name] = { kind: entry.kind, plan: encodeKafkaPlan(plan), ...state }
  }
  const batch: PlannedBatch = {
    batchId: latest.batchId + (pending ? 0 : 1),
    batchTime: Math.max(now, latest.batchTime),
    inputs,
  }
  return { batch, rows }
}

/** The commit info of a reset batch: what moved where, and what it replaced. */
export function resetInfo(reset: ResetBatch, base: ResetBase, target: string, now: number): JsonObject {
  const positions: Record<string, Record<string, Record<string, string>>> = {}
  for (const row of reset.rows) {
    positions[row.input] ??= {}
    const topics = positions[row.input]!
    topics[row.position.topic] ??= {}
    topics[row.position.topic]![String(row.position.partition)] = row.next.offset.toString()
  }
  return {
    reset: {
      by: 'sluice checkpoint reset',
      at: new Date(now).toISOString(),
      to: target,
      positions,
      ...(base.pending ? { replacedPendingBatch: true } : {}),
    },
  }
}
