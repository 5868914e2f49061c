import { partitionKey } from '../core/partition-key.ts'
import type { FieldReader } from './field-reader.ts'
import type { JsonObject, JsonValue } from './json-value.ts'
import type { PlannedBatch, PlannedInput } from './planned-batch.ts'

/**
 * Format 1 of the offset log, written before inputs owned their plans, held one flat list of
 * Kafka offset ranges per batch and, under `metadata.inputs[name]`, each input's lost-record
 * count and soft state:
 *
 *   { version: 1, batchId, batchTime, ranges: [{ topic, partition, fromOffset, untilOffset }],
 *     metadata: { inputs: { "direct-kafka-0": { lostRecords, state } } } }
 *
 * Only the Kafka direct stream wrote it, so the upgrade turns it into format-2 inputs of kind
 * 'kafka-direct' whose plan is the direct stream's plan JSON (src/source/kafka-plan.ts):
 * `{ ranges, lostRecords? }`. With several inputs the ranges were not attributed on disk
 * (the engine matched them to subscriptions at run time), so each input gets every range
 * with `v1SharedRanges: true` and keeps those of its own subscription when it reads them.
 * A format-1 entry with ranges but no input metadata is given to the first direct stream's
 * default name, `direct-kafka-0`.
 */
export function upgradeV1PlannedBatch(
  fields: JsonObject,
  read: FieldReader,
  batchId: number,
  batchTime: number,
): PlannedBatch {
  const seen = new Set<string>()
  const ranges = read.array(fields.ranges, 'ranges').map((value, i): JsonObject => {
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
    return { topic, partition, fromOffset: String(fromOffset), untilOffset: String(untilOffset) }
  })
  const metadata = read.optionalObject(fields.metadata, 'metadata')
  const described = metadata?.inputs === undefined ? {} : read.object(metadata.inputs, 'metadata.inputs')
  const names = Object.keys(described)
  if (names.length === 0 && ranges.length > 0) names.push('direct-kafka-0')
  const inputs: Record<string, PlannedInput> = {}
  for (const name of names) {
    const own: JsonObject =
      described[name] === undefined ? {} : read.object(described[name], `metadata.inputs.${name}`)
    const lostRecords =
      own.lostRecords === undefined
        ? 0
        : read.nonNegativeInteger(own.lostRecords, `metadata.inputs.${name}.lostRecords`)
    const plan: JsonValue = {
      ranges,
      ...(lostRecords > 0 ? { lostRecords } : {}),
      ...(names.length > 1 ? { v1SharedRanges: true } : {}),
    }
    inputs[name] = { kind: 'kafka-direct', plan, ...(own.state === undefined ? {} : { state: own.state }) }
  }
  return { batchId, batchTime, inputs, upgradedFrom: 1 }
}
