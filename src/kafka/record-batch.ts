import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { crc32c } from './crc32c.ts'
import { BatchAttributes } from './types.ts'

/** Header of one v2 record batch inside a fetched record set; the records stay encoded. */
export interface RecordBatchHeader {
  readonly firstOffset: bigint
  readonly lastOffsetDelta: number
  readonly attributes: number
  readonly firstTimestamp: bigint
  readonly maxTimestamp: bigint
  readonly producerId: bigint
  readonly recordCount: number
  /** The CRC-32C stored in the batch, over everything from the attributes to the batch's end. */
  readonly crc: number
  /** The record set, and where this batch starts, its records section starts and it ends in it. */
  readonly data: Buffer
  readonly start: number
  readonly recordsStart: number
  readonly end: number
}

const headerSize = 61
const currentMagic = 2

/**
 * Splits a fetched record set into batch headers. A broker may cut the last batch short
 * when the response hits its size limit; that partial batch is left out, and the next fetch
 * starts at its first offset.
 */
export function batchHeaders(data: Buffer | null): RecordBatchHeader[] {
  const headers: RecordBatchHeader[] = []
  if (data === null) return headers
  let at = 0
  while (at + 12 <= data.length) {
    const end = at + 12 + data.readInt32BE(at + 8)
    if (end > data.length || at + headerSize > data.length) break
    const magic = data.readInt8(at + 16)
    if (magic !== currentMagic) {
      throw new SluiceError(
        ErrorCodes.KAFKA,
        `record batch at offset ${data.readBigInt64BE(at)} uses message format v${magic}; sluice reads v2 (Kafka 0.11+) only`,
      )
    }
    headers.push({
      firstOffset: data.readBigInt64BE(at),
      attributes: data.readInt16BE(at + 21),
      lastOffsetDelta: data.readInt32BE(at + 23),
      firstTimestamp: data.readBigInt64BE(at + 27),
      maxTimestamp: data.readBigInt64BE(at + 35),
      producerId: data.readBigInt64BE(at + 43),
      recordCount: data.readInt32BE(at + 57),
      crc: data.readUInt32BE(at + 17),
      data,
      start: at,
      recordsStart: at + headerSize,
      end,
    })
    at = end
  }
  return headers
}

/** One past the last offset the record set's complete batches cover (at least `from`). */
export function endOffsetOf(batches: readonly RecordBatchHeader[], from: bigint): bigint {
  let end = from
  for (const header of batches) {
    const last = header.firstOffset + BigInt(header.lastOffsetDelta) + 1n
    if (last > end) end = last
  }
  return end
}

/** Where the bytes the batch's CRC covers begin: its attributes, right after the CRC. */
const crcCoverageStart = 21

/** The CRC-32C of the batch's bytes, to compare with the `crc` it carries. */
export function computedCrcOf(header: RecordBatchHeader): number {
  return crc32c(header.data.subarray(header.start + crcCoverageStart, header.end))
}

/** The first batch whose bytes do not match its CRC-32C, if any. */
export function firstCorruptBatch(batches: readonly RecordBatchHeader[]): RecordBatchHeader | undefined {
  for (const header of batches) if (computedCrcOf(header) !== header.crc) return header
  return undefined
}

/** The batch's records section, decompressed when the batch is compressed. */
export function recordsSection(header: RecordBatchHeader): { data: Buffer; start: number; end: number } {
  const codec = header.attributes & BatchAttributes.COMPRESSION_MASK
  if (codec === 0) return { data: header.data, start: header.recordsStart, end: header.end }
  const algorithm = compressionsAlgorithmsByBitmask[codec as keyof typeof compressionsAlgorithmsByBitmask]
  if (!algorithm) {
    throw new SluiceError(
      ErrorCodes.KAFKA,
      `record batch at offset ${header.firstOffset} uses unknown compression ${codec}`,
    )
  }
  const data = algorithm.decompressSync(header.data.subarray(header.recordsStart, header.end))
  return { data, start: 0, end: data.length }
}

/**
 * Reads the zigzag varints of Kafka's record format straight from a buffer. One cursor per
 * batch; its methods are small and monomorphic so V8 inlines them in the decode loop.
 */
export class RecordCursor {
  readonly data: Buffer
  pos: number

  constructor(data: Buffer, pos: number) {
    this.data = data
    this.pos = pos
  }

  /** A zigzag varint (int32). */
  varint(): number {
    const data = this.data
    let result = 0
    let shift = 0
    let byte: number
    do {
      byte = data[this.pos++]!
      result |= (byte & 0x7f) << shift
      shift += 7
    } while (byte & 0x80 && shift < 35)
    return (result >>> 1) ^ -(result & 1)
  }

  /** A zigzag varlong, exact up to 2^53 (timestamp deltas). */
  varlong(): number {
    const data = this.data
    let result = 0
    let multiplier = 1
    let byte: number
    do {
      byte = data[this.pos++]!
      result += (byte & 0x7f) * multiplier
      multiplier *= 128
    } while (byte & 0x80)
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2
  }
}
