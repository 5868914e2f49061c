import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import type { ConsumedRecord } from '../../kafka/group-consumer.ts'
import {
  deserializationError,
  type KafkaRecord,
  type PayloadDecoder,
  type UndecodableRecord,
} from '../../kafka/records.ts'
import { MAX_CHUNK_LENGTH } from '../../rdd/chunks.ts'
import type { PartitionSpan, ReceivedBlock } from './received-block.ts'

/**
 * A block's bytes: the same in memory and in the write-ahead log, so a batch reads a block
 * the same way from either. Records keep their raw key and value bytes; the stream's
 * deserializers run when a task reads the block, as they do for the direct stream — so a
 * batch re-run from the log after a restart decodes (and refuses) exactly what the first run did.
 *
 *   magic "SLBK", u8 version (1), f64 block id, u8 + ascii receiver id, f64 block time,
 *   u32 record count, u16 topic count, per topic u16 + utf8 name, u32 body length, body.
 *   Body, per record: u16 topic index, u32 partition, f64 offset, f64 timestamp,
 *   i32 key length (-1: null) + bytes, i32 value length + bytes,
 *   u16 header count, per header u16 + utf8 key, i32 value length (-1: null) + bytes.
 *
 * Integers are little-endian. Offsets are stored as doubles, exact up to 2^53 (a partition
 * writing a million records a second reaches that in 285 years); writing a 64-bit integer from
 * a bigint costs more than the rest of the record. Integrity is the write-ahead log's business
 * (a checksum per frame).
 */
const MAGIC = 0x4b424c53 // "SLBK" read little-endian
const VERSION = 1
const initialBodyBytes = 64 * 1024

/** One partition's records in the block being built; offsets as numbers (see the format note). */
interface SpanBuilder {
  readonly topic: string
  readonly topicIndex: number
  readonly partition: number
  from: number
  until: number
  records: number
  leaderEpoch: number
}

/** What a cut block is, before it is stored: its description (no write-ahead log place yet) and its bytes. */
export interface EncodedBlock {
  readonly block: ReceivedBlock
  readonly bytes: Buffer
  /** Per partition, the next offset to commit once the block is safe, with the leader epoch of its last record. */
  readonly commits: readonly { topic: string; partition: number; offset: bigint; leaderEpoch: number }[]
}

/**
 * The receiver's current buffer (Spark's BlockGenerator's `currentBuffer`): records are
 * encoded as they arrive, so a received record costs its bytes, not a retained object.
 */
export class BlockBuilder {
  #body = Buffer.allocUnsafe(initialBodyBytes)
  #length = 0
  #records = 0
  readonly #topics = new Map<string, number>()
  /** Per topic, the spans by partition. */
  readonly #spans = new Map<string, SpanBuilder[]>()
  /** Records come in runs of one partition (a fetch's batches): the last span is usually the next one's. */
  #lastSpan: SpanBuilder | undefined

  get records(): number {
    return this.#records
  }

  get bytes(): number {
    return this.#length
  }

  add(record: ConsumedRecord): void {
    const key = payloadOf(record.key)
    const value = payloadOf(record.value)
    const headers = record.headerEntries
    let size = 2 + 4 + 8 + 8 + 4 + (key?.length ?? 0) + 4 + (value?.length ?? 0) + 2
    for (let i = 0; i < headers.length; i++) {
      const [hk, hv] = headers[i]!
      size += 2 + hk.length + 4 + (payloadOf(hv)?.length ?? 0)
    }
    this.#ensure(size)
    const offset = Number(record.offset)
    if (offset > Number.MAX_SAFE_INTEGER) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `offset ${record.offset} of ${record.topic}-${record.partition} is beyond what a received block stores (2^53)`,
      )
    }
    const span = this.#spanOf(record)
    const b = this.#body
    let at = this.#length
    at = b.writeUInt16LE(span.topicIndex, at)
    at = b.writeUInt32LE(record.partition, at)
    at = b.writeDoubleLE(offset, at)
    at = b.writeDoubleLE(Number(record.timestamp), at)
    at = writeBytes(b, at, key)
    at = writeBytes(b, at, value)
    at = b.writeUInt16LE(headers.length, at)
    for (let i = 0; i < headers.length; i++) {
      const [hk, hv] = headers[i]!
      at = b.writeUInt16LE(hk.length, at)
      b.set(hk, at)
      at += hk.length
      at = writeBytes(b, at, payloadOf(hv))
    }
    this.#length = at
    this.#records++
    if (span.records === 0 || offset < span.from) span.from = offset
    if (span.records === 0 || offset >= span.until) {
      span.until = offset + 1
      span.leaderEpoch = record.leaderEpoch
    }
    span.records++
  }

  #spanOf(record: ConsumedRecord): SpanBuilder {
    const last = this.#lastSpan
    if (last !== undefined && last.partition === record.partition && last.topic === record.topic) return last
    let spans = this.#spans.get(record.topic)
    if (spans === undefined) {
      spans = []
      this.#spans.set(record.topic, spans)
      this.#topics.set(record.topic, this.#topics.size)
    }
    let span = spans[record.partition]
    if (span === undefined) {
      span = {
        topic: record.topic,
        topicIndex: this.#topics.get(record.topic)!,
        partition: record.partition,
        from: 0,
        until: 0,
        records: 0,
        leaderEpoch: record.leaderEpoch,
      }
      spans[record.partition] = span
    }
    this.#lastSpan = span
    return span
  }

  /** The block of everything added, and the builder emptied for the next one. */
  build(id: number, receiver: string, time: number): EncodedBlock {
    const topics = [...this.#topics.keys()]
    const names = topics.map((t) => Buffer.from(t, 'utf8'))
    const receiverBytes = Buffer.from(receiver, 'latin1')
    if (receiverBytes.length > 255) {
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `receiver id '${receiver}' is longer than 255 bytes`)
    }
    const headerSize =
      4 + 1 + 8 + 1 + receiverBytes.length + 8 + 4 + 2 + names.reduce((n, name) => n + 2 + name.length, 0) + 4
    const bytes = Buffer.allocUnsafe(headerSize + this.#length)
    let at = bytes.writeUInt32LE(MAGIC, 0)
    at = bytes.writeUInt8(VERSION, at)
    at = bytes.writeDoubleLE(id, at)
    at = bytes.writeUInt8(receiverBytes.length, at)
    at += receiverBytes.copy(bytes, at)
    at = bytes.writeDoubleLE(time, at)
    at = bytes.writeUInt32LE(this.#records, at)
    at = bytes.writeUInt16LE(names.length, at)
    for (const name of names) {
      at = bytes.writeUInt16LE(name.length, at)
      at += name.copy(bytes, at)
    }
    at = bytes.writeUInt32LE(this.#length, at)
    this.#body.copy(bytes, at, 0, this.#length)
    const spans: PartitionSpan[] = []
    const commits: EncodedBlock['commits'][number][] = []
    for (const byPartition of this.#spans.values()) {
      for (const s of byPartition) {
        if (s === undefined) continue
        const untilOffset = BigInt(s.until)
        spans.push({
          topic: s.topic,
          partition: s.partition,
          fromOffset: BigInt(s.from),
          untilOffset,
          records: s.records,
        })
        commits.push({
          topic: s.topic,
          partition: s.partition,
          offset: untilOffset,
          leaderEpoch: s.leaderEpoch,
        })
      }
    }
    const block: ReceivedBlock = { id, receiver, time, records: this.#records, bytes: bytes.length, spans }
    this.#reset()
    return { block, bytes, commits }
  }

  #reset(): void {
    // A large block's buffer is not kept for the next one: memory follows the current rate.
    if (this.#body.length > initialBodyBytes * 4) this.#body = Buffer.allocUnsafe(initialBodyBytes)
    this.#length = 0
    this.#records = 0
    this.#topics.clear()
    this.#spans.clear()
    this.#lastSpan = undefined
  }

  #ensure(more: number): void {
    if (this.#length + more <= this.#body.length) return
    let size = this.#body.length * 2
    while (size < this.#length + more) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.#body.copy(grown, 0, 0, this.#length)
    this.#body = grown
  }
}

function payloadOf(payload: Buffer | null | undefined): Buffer | null {
  return payload === undefined || payload === null ? null : payload
}

function writeBytes(target: Buffer, at: number, payload: Buffer | null): number {
  if (payload === null) return target.writeInt32LE(-1, at)
  const next = target.writeInt32LE(payload.length, at)
  // TypedArray#set copies natively; Buffer#copy goes through more JS for small payloads.
  target.set(payload, next)
  return next + payload.length
}

/** A block's header fields, read without decoding its records. */
export interface BlockHeader {
  readonly id: number
  readonly receiver: string
  readonly time: number
  readonly records: number
  readonly topics: readonly string[]
  /** Where the records start. */
  readonly bodyStart: number
  readonly bodyLength: number
}

export function decodeBlockHeader(bytes: Buffer): BlockHeader {
  const read = new Reader(bytes)
  if (read.u32() !== MAGIC) throw malformedBlock('it does not start with the block magic')
  const version = read.u8()
  if (version !== VERSION)
    throw malformedBlock(`its format version ${version} is unknown (this code reads ${VERSION})`)
  const id = read.f64()
  const receiver = read.text(read.u8(), 'latin1')
  const time = read.f64()
  const records = read.u32()
  const topics: string[] = []
  for (let n = read.u16(); n > 0; n--) topics.push(read.text(read.u16(), 'utf8'))
  const bodyLength = read.u32()
  const bodyStart = read.at
  if (bodyStart + bodyLength !== bytes.length) {
    throw malformedBlock(
      `its body of ${bodyLength} bytes does not end where the block does (${bytes.length} bytes)`,
    )
  }
  return { id, receiver, time, records, topics, bodyStart, bodyLength }
}

/**
 * Takes a record of a block whose key or value the deserializer refused, with its index in
 * the block (which, with the block's id, tells one delivery of a record from another).
 */
export type OnUndecodableInBlock = (record: UndecodableRecord, index: number) => void

/**
 * The block's records in chunks of at most MAX_CHUNK_LENGTH, keys and values turned into
 * the stream's types by its decoders. A record they refuse fails the read with an error
 * naming its topic, partition and offset, or — given `onUndecodable` — is handed to it with
 * its raw bytes and left out.
 */
export function* decodeBlockRecords<K, V>(
  bytes: Buffer,
  key: PayloadDecoder<K>,
  value: PayloadDecoder<V>,
  onUndecodable?: OnUndecodableInBlock,
): Generator<KafkaRecord<K, V>[]> {
  const header = decodeBlockHeader(bytes)
  const read = new Reader(bytes, header.bodyStart)
  let chunk: KafkaRecord<K, V>[] = []
  for (let i = 0; i < header.records; i++) {
    const topic = header.topics[read.u16()]
    if (topic === undefined) throw malformedBlock(`record ${i} names a topic the block does not list`)
    const partition = read.u32()
    const offset = BigInt(read.f64())
    const timestamp = read.f64()
    const keyRange = read.payload()
    const valueRange = read.payload()
    const headerCount = read.u16()
    const headers: (readonly [string, Buffer | null])[] = []
    for (let h = 0; h < headerCount; h++) {
      const name = read.text(read.u16(), 'utf8')
      const payload = read.payload()
      headers.push([name, payload === null ? null : bytes.subarray(payload[0], payload[1])])
    }
    let decodedKey: K | null = null
    let decodedValue: V | null = null
    let part: 'key' | 'value' = 'key'
    try {
      if (keyRange !== null) decodedKey = decode(key, bytes, keyRange)
      part = 'value'
      if (valueRange !== null) decodedValue = decode(value, bytes, valueRange)
    } catch (cause) {
      const error = deserializationError(part, topic, partition, offset, cause)
      if (onUndecodable === undefined) throw error
      // Copied: a view would keep the whole block alive as long as the dead letter waits.
      const copy = (range: readonly [number, number] | null) =>
        range === null ? null : Buffer.from(bytes.subarray(range[0], range[1]))
      onUndecodable(
        {
          topic,
          partition,
          offset,
          timestamp,
          key: copy(keyRange),
          value: copy(valueRange),
          headers: headers.map(([name, raw]) => [name, raw === null ? null : Buffer.from(raw)] as const),
          error,
        },
        i,
      )
      continue
    }
    chunk.push({ topic, partition, offset, timestamp, key: decodedKey, value: decodedValue, headers })
    if (chunk.length === MAX_CHUNK_LENGTH) {
      yield chunk
      chunk = []
    }
  }
  if (read.at !== bytes.length) throw malformedBlock(`${bytes.length - read.at} bytes follow its last record`)
  if (chunk.length > 0) yield chunk
}

function decode<T>(decoder: PayloadDecoder<T>, bytes: Buffer, [start, end]: readonly [number, number]): T {
  return decoder.fromRange ? decoder.fromRange(bytes, start, end) : decoder(bytes.subarray(start, end))
}

function malformedBlock(problem: string): SluiceError {
  return new SluiceError(ErrorCodes.CHECKPOINT, `a received block is malformed: ${problem}`)
}

/** Bounds-checked little-endian reads. */
class Reader {
  readonly #bytes: Buffer
  at: number

  constructor(bytes: Buffer, at = 0) {
    this.#bytes = bytes
    this.at = at
  }

  #need(n: number): number {
    const start = this.at
    if (start + n > this.#bytes.length) {
      throw malformedBlock(
        `it ends at byte ${this.#bytes.length} inside a field that needs ${n} bytes at ${start}`,
      )
    }
    this.at += n
    return start
  }

  u8(): number {
    return this.#bytes.readUInt8(this.#need(1))
  }
  u16(): number {
    return this.#bytes.readUInt16LE(this.#need(2))
  }
  u32(): number {
    return this.#bytes.readUInt32LE(this.#need(4))
  }
  f64(): number {
    return this.#bytes.readDoubleLE(this.#need(8))
  }
  text(length: number, encoding: 'utf8' | 'latin1'): string {
    const start = this.#need(length)
    return this.#bytes.toString(encoding, start, start + length)
  }
  /** A length-prefixed payload's [start, end), or null. */
  payload(): readonly [number, number] | null {
    const length = this.#bytes.readInt32LE(this.#need(4))
    if (length === -1) return null
    if (length < 0) throw malformedBlock(`a payload length is negative (${length})`)
    const start = this.#need(length)
    return [start, start + length]
  }
}
