import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { openBatchEntry } from './batch-entry.ts'
import { assertJsonValue, type JsonObject, type JsonValue } from './json-value.ts'
import { upgradeV1PlannedBatch } from './planned-batch-v1.ts'
import { seal } from './sealed-json.ts'

/**
 * One input's part of a planned batch. The checkpoint does not know what a plan means: the
 * input that wrote it reads it back (a Kafka input: offset ranges; a queue: item positions).
 */
export interface PlannedInput {
  /** Which kind of input wrote it ('kafka-direct', 'queue', ...), for tools that show a checkpoint. */
  readonly kind: string
  /** What the input reads in this batch, as plain JSON; absent when it planned nothing. */
  readonly plan?: JsonValue
  /** The input's soft state when it planned the batch (a rate estimator, a position...). */
  readonly state?: JsonValue
}

/** One offset log entry: what batch `batchId` reads, recorded before any of its work runs. */
export interface PlannedBatch {
  readonly batchId: number
  /** The batch's scheduled time, in milliseconds since the epoch. */
  readonly batchTime: number
  /** Per input, by the input's name. */
  readonly inputs: Readonly<Record<string, PlannedInput>>
  /** Set when the entry was read from an older format and upgraded in memory. */
  readonly upgradedFrom?: number
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
  const { batchId, batchTime, inputs } = batch
  if (!isNonNegativeInteger(batchId)) {
    throw invalidBatch(batchId, `batchId must be a non-negative integer, got ${describeValue(batchId)}`)
  }
  if (!isNonNegativeInteger(batchTime)) {
    throw invalidBatch(
      batchId,
      `batchTime must be a non-negative integer (ms), got ${describeValue(batchTime)}`,
    )
  }
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw invalidBatch(batchId, `inputs must be an object keyed by input name, got ${describeValue(inputs)}`)
  }
  for (const [name, input] of Object.entries(inputs)) {
    if (name === '') throw invalidBatch(batchId, 'an input has an empty name')
    if (typeof input?.kind !== 'string' || input.kind === '') {
      throw invalidBatch(
        batchId,
        `inputs.${name}.kind must be a non-empty string, got ${describeValue(input?.kind)}`,
      )
    }
    if (input.plan !== undefined)
      assertJsonValue(input.plan, `plan of input '${name}' in batch ${batchId}`, 'plan')
    if (input.state !== undefined) {
      assertJsonValue(input.state, `state of input '${name}' in batch ${batchId}`, 'state')
    }
  }
}

/** File text for an offset log entry in the current format. */
export function encodePlannedBatch(batch: PlannedBatch): string {
  assertValidPlannedBatch(batch)
  const inputs: JsonObject = {}
  for (const [name, input] of Object.entries(batch.inputs)) {
    inputs[name] = {
      kind: input.kind,
      ...(input.plan === undefined ? {} : { plan: input.plan }),
      ...(input.state === undefined ? {} : { state: input.state }),
    }
  }
  return seal({ batchId: batch.batchId, batchTime: batch.batchTime, inputs })
}

/**
 * Reads an offset log entry back, checking checksum, shape and that it is the batch its name
 * says. A format-1 entry is upgraded: see planned-batch-v1.ts.
 */
export function decodePlannedBatch(
  text: string,
  file: string,
  dir: string,
  expectedBatchId: number,
): PlannedBatch {
  const { version, fields, read, batchId } = openBatchEntry(text, file, dir, expectedBatchId)
  const batchTime = read.nonNegativeInteger(fields.batchTime, 'batchTime')
  if (version === 1) return upgradeV1PlannedBatch(fields, read, batchId, batchTime)
  const inputs: Record<string, PlannedInput> = {}
  for (const [name, value] of Object.entries(read.object(fields.inputs, 'inputs'))) {
    if (name === '') throw read.problem('an input has an empty name')
    const input = read.object(value, `inputs.${name}`)
    const kind = read.nonEmptyString(input.kind, `inputs.${name}.kind`)
    inputs[name] = {
      kind,
      ...(input.plan === undefined ? {} : { plan: input.plan }),
      ...(input.state === undefined ? {} : { state: input.state }),
    }
  }
  return { batchId, batchTime, inputs }
}
