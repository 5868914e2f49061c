import { compressionsAlgorithms } from '@platformatic/kafka'
import { crc32cTable } from '../../src/kafka/crc32c.ts'
import { BatchAttributes } from '../../src/kafka/types.ts'

/**
 * Builds v2 record batches byte by byte, so decoder tests control every field. The CRC-32C
 * is computed as Kafka does (over everything from the attributes on), with the table
 * implementation, so the native one that sluice reads with is checked against another.
 */
export interface TestRecord {
  readonly offsetDelta?: number
  readonly timestampDelta?: number
  readonly key?: string | null
  readonly value: string | Buffer | null
  readonly headers?: readonly (readonly [string, string | null])[]
}

export interface TestBatch {
  readonly firstOffset: bigint
  readonly records: readonly TestRecord[]
  readonly attributes?: number
  readonly lastOffsetDelta?: number
  readonly firstTimestamp?: bigint
  readonly maxTimestamp?: bigint
  readonly producerId?: bigint
  readonly compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd'
}

function zigzagVarint(value: number): Buffer {
  let n = value >= 0 ? value * 2 : -value * 2 - 1
  const bytes: number[] = []
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  bytes.push(n)
  return Buffer.from(bytes)
}

function bytesField(value: string | Buffer | null | undefined): Buffer {
  if (value === null || value === undefined) return zigzagVarint(-1)
  const data = Buffer.isBuffer(value) ? value : Buffer.from(value)
  return Buffer.concat([zigzagVarint(data.length), data])
}

function encodeRecord(record: TestRecord, index: number): Buffer {
  const headers = record.headers ?? []
  const body = Buffer.concat([
    Buffer.from([0]),
    zigzagVarint(record.timestampDelta ?? index),
    zigzagVarint(record.offsetDelta ?? index),
    bytesField(record.key),
    bytesField(record.value),
    zigzagVarint(headers.length),
    ...headers.flatMap(([k, v]) => [bytesField(k), bytesField(v)]),
  ])
  return Buffer.concat([zigzagVarint(body.length), body])
}

export function encodeBatch(batch: TestBatch): Buffer {
  let records: Buffer = Buffer.concat(batch.records.map(encodeRecord))
  let attributes = batch.attributes ?? 0
  if (batch.compression) {
    const algorithm = compressionsAlgorithms[batch.compression]
    records = algorithm.compressSync(records)
    attributes |= algorithm.bitmask
  }
  const lastOffsetDelta =
    batch.lastOffsetDelta ?? Math.max(0, ...batch.records.map((r, i) => r.offsetDelta ?? i))
  const header = Buffer.alloc(61)
  header.writeBigInt64BE(batch.firstOffset, 0)
  header.writeInt32BE(49 + records.length, 8)
  header.writeInt32BE(0, 12)
  header.writeInt8(2, 16)
  header.writeUInt32BE(0, 17)
  header.writeInt16BE(attributes, 21)
  header.writeInt32BE(lastOffsetDelta, 23)
  header.writeBigInt64BE(batch.firstTimestamp ?? 1000n, 27)
  header.writeBigInt64BE(batch.maxTimestamp ?? 1000n + BigInt(batch.records.length), 35)
  header.writeBigInt64BE(batch.producerId ?? -1n, 43)
  header.writeInt16BE(0, 51)
  header.writeInt32BE(0, 53)
  header.writeInt32BE(batch.records.length, 57)
  const encoded = Buffer.concat([header, records])
  encoded.writeUInt32BE(crc32cTable(encoded, 21), 17)
  return encoded
}

/** A transaction marker batch: one control record whose key says ABORT (0) or COMMIT (1). */
export function encodeMarker(offset: bigint, producerId: bigint, type: 'abort' | 'commit'): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2)
  return encodeBatch({
    firstOffset: offset,
    attributes: BatchAttributes.CONTROL | BatchAttributes.TRANSACTIONAL,
    producerId,
    records: [{ key: key.toString('latin1'), value: Buffer.alloc(6) }],
  })
}
