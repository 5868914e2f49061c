import type { JsonObject, JsonValue } from '../../checkpoint/json-value.ts'
import { describeValue } from '../../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import { partitionKey } from '../../core/partition-key.ts'
import { OffsetRange } from '../../kafka/offset-range.ts'

/** The records of one partition inside a block: offsets `[fromOffset, untilOffset)`, `records` of them present. */
export interface PartitionSpan {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  /** One past the block's last offset of this partition. */
  readonly untilOffset: bigint
  readonly records: number
}

/** Where a block's bytes are in the write-ahead log: a segment file and the frame's byte offset in it. */
export interface WalHandle {
  readonly segment: string
  readonly offset: number
  /** Payload bytes (the frame adds its header). */
  readonly length: number
}

/**
 * A block (Spark's ReceivedBlockInfo with its StreamBlockId): the records a receiver took in
 * during one block interval, the unit the receiver stores, logs, commits and hands to a
 * batch. Ids count up per input across restarts; `receiver` names the run that received it,
 * so two deliveries of the same record by two runs can be told apart.
 */
export interface ReceivedBlock {
  readonly id: number
  readonly receiver: string
  /** When the block was cut, in ms since the epoch (the context's clock): batches take blocks cut up to their time. */
  readonly time: number
  readonly records: number
  /** Encoded size in bytes. */
  readonly bytes: number
  readonly spans: readonly PartitionSpan[]
  /** Where the block is in the write-ahead log (reliable mode only). */
  readonly wal?: WalHandle
}

export function blockToJson(block: ReceivedBlock): JsonObject {
  return {
    id: block.id,
    receiver: block.receiver,
    time: block.time,
    records: block.records,
    bytes: block.bytes,
    spans: block.spans.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      fromOffset: s.fromOffset.toString(),
      untilOffset: s.untilOffset.toString(),
      records: s.records,
    })),
    ...(block.wal === undefined
      ? {}
      : { wal: { segment: block.wal.segment, offset: block.wal.offset, length: block.wal.length } }),
  }
}

/** Reads a block written by `blockToJson`; `what` names where it came from in the error of a malformed one. */
export function blockFromJson(json: JsonValue | undefined, what: string): ReceivedBlock {
  const read = new JsonFields(what)
  const o = read.object(json, 'block')
  const spans = read.array(o.spans, 'spans').map((value, i) => {
    const s = read.object(value, `spans[${i}]`)
    const span = {
      topic: read.string(s.topic, `spans[${i}].topic`),
      partition: read.integer(s.partition, `spans[${i}].partition`),
      fromOffset: read.offset(s.fromOffset, `spans[${i}].fromOffset`),
      untilOffset: read.offset(s.untilOffset, `spans[${i}].untilOffset`),
      records: read.integer(s.records, `spans[${i}].records`),
    }
    if (span.untilOffset < span.fromOffset) read.fail(`spans[${i}] ends before it starts`)
    return span
  })
  const wal = o.wal === undefined ? undefined : read.object(o.wal, 'wal')
  return {
    id: read.integer(o.id, 'id'),
    receiver: read.string(o.receiver, 'receiver'),
    time: read.integer(o.time, 'time'),
    records: read.integer(o.records, 'records'),
    bytes: read.integer(o.bytes, 'bytes'),
    spans,
    ...(wal === undefined
      ? {}
      : {
          wal: {
            segment: read.string(wal.segment, 'wal.segment'),
            offset: read.integer(wal.offset, 'wal.offset'),
            length: read.integer(wal.length, 'wal.length'),
          },
        }),
  }
}

/** The block's spans as offset ranges, for messages and for replaying them with createRDD. */
export function spanRanges(spans: readonly PartitionSpan[]): OffsetRange[] {
  return spans.map((s) => OffsetRange.create(s.topic, s.partition, s.fromOffset, s.untilOffset))
}

/**
 * Per partition, the union of the spans' offsets as disjoint sorted ranges (blocks of two
 * runs can cover the same offsets: the second run read them again).
 */
export function coveredRanges(blocks: Iterable<ReceivedBlock>): Map<string, OffsetRange[]> {
  const byPartition = new Map<string, PartitionSpan[]>()
  for (const block of blocks) {
    for (const span of block.spans) {
      const key = partitionKey(span.topic, span.partition)
      const list = byPartition.get(key) ?? []
      list.push(span)
      byPartition.set(key, list)
    }
  }
  const merged = new Map<string, OffsetRange[]>()
  for (const [key, spans] of byPartition) {
    spans.sort((a, b) => (a.fromOffset < b.fromOffset ? -1 : a.fromOffset > b.fromOffset ? 1 : 0))
    const out: OffsetRange[] = []
    for (const s of spans) {
      const last = out.at(-1)
      if (last && s.fromOffset <= last.untilOffset) {
        if (s.untilOffset > last.untilOffset) {
          out[out.length - 1] = OffsetRange.create(s.topic, s.partition, last.fromOffset, s.untilOffset)
        }
      } else {
        out.push(OffsetRange.create(s.topic, s.partition, s.fromOffset, s.untilOffset))
      }
    }
    merged.set(key, out)
  }
  return merged
}

/** Typed reads of the receiver's JSON (plans, tracker events, state) with the field named when one is wrong. */
export class JsonFields {
  readonly #what: string

  constructor(what: string) {
    this.#what = what
  }

  fail(problem: string): never {
    throw new SluiceError(ErrorCodes.CHECKPOINT, `${this.#what} is malformed: ${problem}`)
  }

  object(value: JsonValue | undefined, path: string): JsonObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(`'${path}' must be an object, got ${describeValue(value)}`)
    }
    return value
  }

  array(value: JsonValue | undefined, path: string): JsonValue[] {
    if (!Array.isArray(value)) this.fail(`'${path}' must be an array, got ${describeValue(value)}`)
    return value
  }

  string(value: JsonValue | undefined, path: string): string {
    if (typeof value !== 'string' || value === '') {
      this.fail(`'${path}' must be a non-empty string, got ${describeValue(value)}`)
    }
    return value
  }

  integer(value: JsonValue | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.fail(`'${path}' must be a non-negative integer, got ${describeValue(value)}`)
    }
    return value
  }

  positiveNumber(value: JsonValue | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      this.fail(`'${path}' must be a positive number, got ${describeValue(value)}`)
    }
    return value
  }

  /** An integer of at least -1 (-1: none yet). */
  integerOrNone(value: JsonValue | undefined, path: string): number {
    if (value === -1) return -1
    return this.integer(value, path)
  }

  offset(value: JsonValue | undefined, path: string): bigint {
    if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value)) {
      this.fail(`'${path}' must be a decimal string (an offset), got ${describeValue(value)}`)
    }
    return BigInt(value)
  }
}
