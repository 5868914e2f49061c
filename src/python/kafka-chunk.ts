import type { KafkaRecord } from '../kafka/records.ts'

/**
 * A chunk of Kafka records as a Python worker receives it: columns rather than one object
 * per record. A task reads one topic-partition, so topic and partition are the chunk's;
 * offsets and timestamps travel as little-endian int64 arrays (one bytes field each, read
 * by Python's array module in C), keys and values as the engine decoded them (bytes, or
 * text and JSON for the built-in deserializers), headers as null when no record has any.
 */
export interface KafkaChunkFrame {
  readonly topic: string
  readonly partition: number
  readonly offsets: Buffer
  readonly timestamps: Buffer
  readonly keys: unknown[]
  readonly values: unknown[]
  readonly headers: (readonly (readonly [string, Buffer | null])[])[] | null
}

export function encodeKafkaChunk(records: readonly KafkaRecord<unknown, unknown>[]): KafkaChunkFrame {
  const count = records.length
  const offsets = new BigInt64Array(count)
  const timestamps = new BigInt64Array(count)
  const keys = new Array<unknown>(count)
  const values = new Array<unknown>(count)
  let headers: KafkaChunkFrame['headers'] = null
  for (let i = 0; i < count; i++) {
    const record = records[i]!
    offsets[i] = record.offset
    timestamps[i] = BigInt(record.timestamp)
    keys[i] = record.key
    values[i] = record.value
    if (record.headers.length > 0) {
      headers ??= Array.from({ length: count }, () => [])
      headers[i] = record.headers
    }
  }
  const first = records[0]
  return {
    topic: first?.topic ?? '',
    partition: first?.partition ?? -1,
    offsets: Buffer.from(offsets.buffer),
    timestamps: Buffer.from(timestamps.buffer),
    keys,
    values,
    headers,
  }
}
