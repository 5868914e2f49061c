import type { KafkaRecord } from '../kafka/records.ts'
import { encodePayload } from './frame-codec.ts'

/**
 * A chunk of Kafka records as a Python worker receives it: columns rather than one object
 * per record. A task reads one topic-partition, so topic and partition are the chunk's;
 * offsets and timestamps travel as little-endian int64 arrays (one bytes field each, read
 * by Python's array module in C), keys and values as the records' raw bytes (the workers
 * deserialize them), headers as null when no record has any.
 */
export interface KafkaChunkFrame {
  readonly topic: string
  readonly partition: number
  readonly offsets: Buffer
  readonly timestamps: Buffer
  readonly keys: (Buffer | null)[]
  readonly values: (Buffer | null)[]
  readonly headers: (readonly (readonly [string, Buffer | null])[])[] | null
}

type RawRecord = KafkaRecord<Buffer, Buffer>

export function kafkaChunkFrame(records: readonly RawRecord[]): KafkaChunkFrame {
  const count = records.length
  const offsets = new BigInt64Array(count)
  const timestamps = new BigInt64Array(count)
  const keys = new Array<Buffer | null>(count)
  const values = new Array<Buffer | null>(count)
  let headers: KafkaChunkFrame['headers'] = null
  for (let i = 0; i < count; i++) {
    // Field by field: a fetched record's offset and timestamp are getters, which a copy of
    // the object (spread, structuredClone, msgpack) would drop.
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

/** Bytes of a msgpack bin header for `length` bytes. */
function binHeaderSize(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
}

function arrayHeaderSize(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5
}

function payloadsSize(payloads: readonly (Buffer | null)[]): number {
  let size = arrayHeaderSize(payloads.length)
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i]
    size += payload === null || payload === undefined ? 1 : binHeaderSize(payload.length) + payload.length
  }
  return size
}

class Writer {
  readonly bytes: Buffer
  position = 0

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size)
  }

  raw(data: Uint8Array): void {
    this.bytes.set(data, this.position)
    this.position += data.length
  }

  arrayHeader(length: number): void {
    const b = this.bytes
    if (length < 16) b[this.position++] = 0x90 | length
    else if (length < 0x10000) {
      b[this.position] = 0xdc
      b.writeUInt16BE(length, this.position + 1)
      this.position += 3
    } else {
      b[this.position] = 0xdd
      b.writeUInt32BE(length, this.position + 1)
      this.position += 5
    }
  }

  bin(data: Uint8Array): void {
    const b = this.bytes
    const length = data.length
    if (length < 0x100) {
      b[this.position] = 0xc4
      b[this.position + 1] = length
      this.position += 2
    } else if (length < 0x10000) {
      b[this.position] = 0xc5
      b.writeUInt16BE(length, this.position + 1)
      this.position += 3
    } else {
      b[this.position] = 0xc6
      b.writeUInt32BE(length, this.position + 1)
      this.position += 5
    }
    this.raw(data)
  }

  payloads(payloads: readonly (Buffer | null)[]): void {
    this.arrayHeader(payloads.length)
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]
      if (payload === null || payload === undefined) this.bytes[this.position++] = 0xc0
      else this.bin(payload)
    }
  }
}

/**
 * The msgpack of `['chunk', taskId, kafkaChunkFrame(records)]`, byte for byte what
 * `encodePayload` writes for it (the canonical encoding), but written straight from the
 * records: a general encoder spends most of a worker-bound job's engine time on the one
 * bin per key and value. The small fields go through `encodePayload`.
 */
export function encodeKafkaChunkMessage(taskId: number, records: readonly RawRecord[]): Buffer {
  const frame = kafkaChunkFrame(records)
  const head = encodePayload(['chunk', taskId])
  const fields = [
    encodePayload('topic'),
    encodePayload(frame.topic),
    encodePayload('partition'),
    encodePayload(frame.partition),
    encodePayload('offsets'),
    encodePayload(frame.offsets),
    encodePayload('timestamps'),
    encodePayload(frame.timestamps),
    encodePayload('keys'),
  ]
  const tail = [encodePayload('headers'), encodePayload(frame.headers)]
  const valuesKey = encodePayload('values')
  let size = head.length + 1
  for (const field of fields) size += field.length
  size += payloadsSize(frame.keys) + valuesKey.length + payloadsSize(frame.values)
  for (const field of tail) size += field.length
  const writer = new Writer(size)
  // ['chunk', taskId] with one more element: the array header says 3, then its two elements.
  writer.bytes[writer.position++] = 0x93
  writer.raw(head.subarray(1))
  writer.bytes[writer.position++] = 0x87 // a map of 7 fields
  for (const field of fields) writer.raw(field)
  writer.payloads(frame.keys)
  writer.raw(valuesKey)
  writer.payloads(frame.values)
  for (const field of tail) writer.raw(field)
  return writer.bytes
}
