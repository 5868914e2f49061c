import type { JsonValue } from '../../checkpoint/json-value.ts'
import { blockFromJson, blockToJson, JsonFields, type ReceivedBlock } from './received-block.ts'

/**
 * What the received-block tracker writes to its log (Spark's ReceivedBlockTrackerLogEvent),
 * one JSON object per frame. Replaying them in order rebuilds the tracker: which blocks were
 * received, which batch took which, and which batches are done with.
 */
export type TrackerEvent =
  /** A block is stored (and, in reliable mode, in the data log): it can go to a batch. */
  | { readonly kind: 'block-added'; readonly block: ReceivedBlock }
  /** Batch `batchId` took blocks `blockIds`; every block up to `allocatedThrough` is allocated. */
  | {
      readonly kind: 'batch-allocated'
      readonly batchId: number
      readonly blockIds: readonly number[]
      readonly allocatedThrough: number
    }
  /** Batches before `beforeBatchId` will never be read again: their blocks may be deleted. */
  | { readonly kind: 'batches-released'; readonly beforeBatchId: number }
  /** A run's receiver starts: the blocks it logs carry this id. */
  | { readonly kind: 'receiver-started'; readonly receiver: string }

export function encodeTrackerEvent(event: TrackerEvent): Buffer {
  let json: JsonValue
  switch (event.kind) {
    case 'block-added':
      json = { kind: event.kind, block: blockToJson(event.block) }
      break
    case 'batch-allocated':
      json = {
        kind: event.kind,
        batchId: event.batchId,
        blockIds: [...event.blockIds],
        allocatedThrough: event.allocatedThrough,
      }
      break
    case 'batches-released':
      json = { kind: event.kind, beforeBatchId: event.beforeBatchId }
      break
    case 'receiver-started':
      json = { kind: event.kind, receiver: event.receiver }
      break
  }
  return Buffer.from(JSON.stringify(json), 'utf8')
}

/** Reads an event back; `where` (file and byte offset) names it when it is malformed. */
export function decodeTrackerEvent(payload: Buffer, where: string): TrackerEvent {
  const read = new JsonFields(`the received-block tracker event at ${where}`)
  const event = read.object(parseJson(payload, read), 'event')
  switch (event.kind) {
    case 'block-added':
      return { kind: 'block-added', block: blockFromJson(event.block, `the block added at ${where}`) }
    case 'batch-allocated':
      return {
        kind: 'batch-allocated',
        batchId: read.integer(event.batchId, 'batchId'),
        blockIds: read.array(event.blockIds, 'blockIds').map((id, i) => read.integer(id, `blockIds[${i}]`)),
        allocatedThrough: read.integerOrNone(event.allocatedThrough, 'allocatedThrough'),
      }
    case 'batches-released':
      return { kind: 'batches-released', beforeBatchId: read.integer(event.beforeBatchId, 'beforeBatchId') }
    case 'receiver-started':
      return { kind: 'receiver-started', receiver: read.string(event.receiver, 'receiver') }
    default:
      return read.fail(`'kind' is not a known event: ${JSON.stringify(event.kind)}`)
  }
}

function parseJson(payload: Buffer, read: JsonFields): JsonValue {
  try {
    return JSON.parse(payload.toString('utf8')) as JsonValue
  } catch {
    return read.fail('it is not JSON')
  }
}
