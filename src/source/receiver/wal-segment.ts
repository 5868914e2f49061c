import { crc32 } from 'node:zlib'

/**
 * The write-ahead log's segment file format. A segment is a header followed by frames, each
 * frame one record appended (a block's bytes, or a tracker event):
 *
 *   header: the 8 ASCII bytes "SLWAL001"
 *   frame:  u32 payload length, u32 CRC-32 of the payload (both little-endian), payload
 *
 * A frame is appended and fsynced before anyone is told it exists, so a crash can only leave
 * the last frame of a segment incomplete — a torn write. Everything else wrong with a segment
 * (a checksum mismatch, a header that is not ours, a length that runs past the file while
 * frames follow) is damage. Scanning reports both with the byte offset where they start;
 * what recovery does about them is decided by whoever knows which frames still matter.
 */
export const SEGMENT_HEADER = Buffer.from('SLWAL001', 'latin1')
export const FRAME_HEADER_BYTES = 8
/** No frame is this large; a length above it is garbage, not a frame. */
export const MAX_FRAME_BYTES = 1 << 30

export interface ScannedFrame {
  /** Byte offset of the frame (its length field) in the segment. */
  readonly offset: number
  readonly length: number
  readonly payload: Buffer
}

export type DamageKind = 'torn-tail' | 'bad-header' | 'bad-length' | 'checksum'

/** Where a segment stops being readable, and why. Nothing at or after `offset` is trusted. */
export interface SegmentDamage {
  readonly kind: DamageKind
  readonly offset: number
  /** Bytes from `offset` to the end of the file. */
  readonly bytesAfter: number
  readonly problem: string
}

export interface SegmentScan {
  readonly frames: ScannedFrame[]
  readonly damage?: SegmentDamage
}

/** The frame of `payload`, ready to append. */
export function encodeFrameHeader(payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
  header.writeUInt32LE(payload.length, 0)
  header.writeUInt32LE(crc32(payload), 4)
  return header
}

/** Reads every whole, checksummed frame of a segment's bytes, up to the first damage. */
export function scanSegment(bytes: Buffer): SegmentScan {
  const frames: ScannedFrame[] = []
  const damaged = (kind: DamageKind, offset: number, problem: string): SegmentScan => ({
    frames,
    damage: { kind, offset, bytesAfter: bytes.length - offset, problem },
  })
  if (bytes.length < SEGMENT_HEADER.length) {
    return SEGMENT_HEADER.subarray(0, bytes.length).equals(bytes)
      ? damaged(
          'torn-tail',
          0,
          `ends inside its ${SEGMENT_HEADER.length}-byte header (${bytes.length} bytes)`,
        )
      : damaged('bad-header', 0, 'does not start with SLWAL001')
  }
  if (!bytes.subarray(0, SEGMENT_HEADER.length).equals(SEGMENT_HEADER)) {
    return damaged('bad-header', 0, 'does not start with SLWAL001')
  }
  let at = SEGMENT_HEADER.length
  while (at < bytes.length) {
    const left = bytes.length - at
    if (left < FRAME_HEADER_BYTES) {
      return damaged('torn-tail', at, `ends inside a frame header (${left} of ${FRAME_HEADER_BYTES} bytes)`)
    }
    const length = bytes.readUInt32LE(at)
    const checksum = bytes.readUInt32LE(at + 4)
    if (length > MAX_FRAME_BYTES) {
      return damaged('bad-length', at, `has a frame length of ${length} bytes, more than any frame holds`)
    }
    if (FRAME_HEADER_BYTES + length > left) {
      return damaged(
        'torn-tail',
        at,
        `ends inside a frame of ${length} bytes (${left - FRAME_HEADER_BYTES} present)`,
      )
    }
    const payload = bytes.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length)
    if (crc32(payload) !== checksum) {
      return damaged(
        'checksum',
        at,
        `has a frame of ${length} bytes whose CRC-32 does not match (damaged on disk)`,
      )
    }
    frames.push({ offset: at, length, payload })
    at += FRAME_HEADER_BYTES + length
  }
  return { frames }
}

/**
 * Checks one frame read on its own (a block read back for a batch): `header` is its 8-byte
 * frame header, `payload` the bytes that follow. Returns what is wrong, or undefined.
 */
export function frameProblem(header: Buffer, payload: Buffer, expectedLength: number): string | undefined {
  if (header.length < FRAME_HEADER_BYTES) return 'the file ends before the frame header'
  const length = header.readUInt32LE(0)
  if (length !== expectedLength) {
    return `the frame there is ${length} bytes long where the block's handle says ${expectedLength}`
  }
  if (payload.length < length) return `the file ends ${length - payload.length} bytes before the frame does`
  if (crc32(payload) !== header.readUInt32LE(4)) return 'its CRC-32 does not match (damaged on disk)'
  return undefined
}
