import type { JsonObject, JsonValue } from '../../checkpoint/json-value.ts'
import { partitionKey } from '../../core/partition-key.ts'
import type { PartitionOffset } from '../../kafka/types.ts'
import { blockFromJson, blockToJson, JsonFields, type ReceivedBlock } from './received-block.ts'

/**
 * What a receiver stream keeps in the checkpoint (inputs of kind 'kafka-receiver').
 *
 * Its plan of a batch — the blocks allocated to it, with where each is in the write-ahead
 * log — is what a re-run after a crash reads again:
 *
 *   { "blocks": [{ "id": 41, "receiver": "r-5f2c", "time": 1718000000200, "records": 812,
 *                  "bytes": 98304, "spans": [{ "topic": "words", "partition": 0,
 *                  "fromOffset": "1200", "untilOffset": "2012", "records": 812 }],
 *                  "wal": { "segment": "segment-000000000003.wal", "offset": 1048632, "length": 98304 } }],
 *     "allocatedThrough": 41, "rateLimit": 5000 }
 *
 * Its soft state, logged with every batch: the next block id, per partition where accounting
 * stands (below it every offset was handed to a batch or counted as lost), and the rate
 * controller's memory.
 */
export interface ReceiverPlan {
  readonly blocks: readonly ReceivedBlock[]
  /** Every block with an id up to this one is allocated to this batch or an earlier one (-1: none yet). */
  readonly allocatedThrough: number
  /** The receiver's records/s limit when planned; null: unlimited. */
  readonly rateLimit: number | null
  /** Records a restart found lost just before this batch was planned, counted by it (without the log only). */
  readonly lostRecords: number
}

export interface ReceiverState {
  readonly nextBlockId: number
  /** Per partition: every offset below it was handed to a batch, or counted as lost by a start. */
  readonly accountedUntil: readonly PartitionOffset[]
  readonly rate?: JsonValue
}

export function encodeReceiverPlan(plan: ReceiverPlan): JsonObject {
  return {
    blocks: plan.blocks.map(blockToJson),
    allocatedThrough: plan.allocatedThrough,
    ...(plan.rateLimit === null ? {} : { rateLimit: plan.rateLimit }),
    ...(plan.lostRecords === 0 ? {} : { lostRecords: plan.lostRecords }),
  }
}

export function decodeReceiverPlan(json: JsonValue, what: string): ReceiverPlan {
  const read = new JsonFields(what)
  const plan = read.object(json, 'plan')
  const blocks = read.array(plan.blocks, 'blocks').map((b, i) => blockFromJson(b, `${what}, blocks[${i}]`))
  return {
    blocks,
    allocatedThrough: read.integerOrNone(plan.allocatedThrough, 'allocatedThrough'),
    rateLimit: plan.rateLimit === undefined ? null : read.positiveNumber(plan.rateLimit, 'rateLimit'),
    lostRecords: plan.lostRecords === undefined ? 0 : read.integer(plan.lostRecords, 'lostRecords'),
  }
}

export function encodeReceiverState(state: ReceiverState): JsonObject {
  return {
    nextBlockId: state.nextBlockId,
    accountedUntil: state.accountedUntil.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      offset: p.offset.toString(),
    })),
    ...(state.rate === undefined ? {} : { rate: state.rate }),
  }
}

export function decodeReceiverState(json: JsonValue, what: string): ReceiverState {
  const read = new JsonFields(what)
  const state = read.object(json, 'state')
  return {
    nextBlockId: read.integer(state.nextBlockId, 'nextBlockId'),
    accountedUntil: read.array(state.accountedUntil, 'accountedUntil').map((value, i) => {
      const p = read.object(value, `accountedUntil[${i}]`)
      return {
        topic: read.string(p.topic, `accountedUntil[${i}].topic`),
        partition: read.integer(p.partition, `accountedUntil[${i}].partition`),
        offset: read.offset(p.offset, `accountedUntil[${i}].offset`),
      }
    }),
    ...(state.rate === undefined ? {} : { rate: state.rate }),
  }
}

/** `accountedUntil` moved past the blocks of a batch. */
export function advanceAccountedUntil(
  accountedUntil: ReadonlyMap<string, PartitionOffset>,
  blocks: readonly ReceivedBlock[],
): Map<string, PartitionOffset> {
  const next = new Map(accountedUntil)
  for (const block of blocks) {
    for (const span of block.spans) {
      const key = partitionKey(span.topic, span.partition)
      const known = next.get(key)
      if (known === undefined || span.untilOffset > known.offset) {
        next.set(key, { topic: span.topic, partition: span.partition, offset: span.untilOffset })
      }
    }
  }
  return next
}
