import { addExtension, Packr } from 'msgpackr'
import { ErrorCodes, SluiceError } from '../core/errors.ts'

/**
 * The frames the engine exchanges with the Python driver and workers: a 4-byte big-endian
 * length, then that many bytes of one msgpack value. Python writes them with `msgpack`,
 * Node with msgpackr; `test/fixtures/frames/vectors.json` holds frames both sides must
 * decode and re-encode byte for byte.
 *
 * Canonical encoding (what both sides produce): every integer in its smallest msgpack form
 * (uint64 for positive integers of 2^32 and above, int64 for negatives below -2^31),
 * floats as float64, strings as str (UTF-8), bytes as bin, maps with string keys in
 * insertion order. msgpackr writes integers beyond 32 bits as float64 and bigints as int64,
 * so `toCanonical` marks those before packing.
 */

/** Largest frame accepted: a chunk of records is far smaller; anything bigger is a broken peer. */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024

/** An integer beyond 32 bits, written in msgpack's smallest form. */
class WideInteger {
  readonly value: bigint
  constructor(value: bigint) {
    this.value = value
  }
}

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  // 'auto' (numbers while exact, bigints beyond 2^53) is supported but missing from the typings.
  int64AsType: 'auto' as 'bigint',
  encodeUndefinedAsNil: true,
})
// Registered globally by msgpackr, but only for this module's own class.
addExtension({
  Class: WideInteger,
  // Never written: pack() writes a plain integer. The type only satisfies addExtension.
  type: 0x70,
  pack(wide: WideInteger, allocateForWrite: (size: number) => { target: Buffer; position: number }) {
    const { target, position } = allocateForWrite(9)
    const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
    if (wide.value >= 0n) {
      target[position] = 0xcf
      view.setBigUint64(position + 1, wide.value)
    } else {
      target[position] = 0xd3
      view.setBigInt64(position + 1, wide.value)
    }
  },
  unpack(): never {
    throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'unexpected msgpack extension type 0x70 in a frame')
  },
} as unknown as Parameters<typeof addExtension>[0])

const INT32_MIN = -(2 ** 31)
const UINT32_LIMIT = 2 ** 32

/**
 * Replaces integers that msgpackr would not write in their smallest form (numbers beyond 32
 * bits, bigints) with markers that are. Plain data only: arrays, plain objects, Buffers.
 */
export function toCanonical(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && (value >= UINT32_LIMIT || value < INT32_MIN)
        ? new WideInteger(BigInt(value))
        : value
    case 'bigint':
      return value >= -(2n ** 31n) && value < 2n ** 32n ? Number(value) : new WideInteger(value)
    case 'object': {
      if (value === null || value instanceof Uint8Array) return value
      if (Array.isArray(value)) return value.map(toCanonical)
      const out: Record<string, unknown> = {}
      for (const [key, field] of Object.entries(value)) out[key] = toCanonical(field)
      return out
    }
    default:
      return value
  }
}

/** One msgpack value, canonical, without the length prefix. */
export function encodePayload(value: unknown): Buffer {
  return packr.pack(toCanonical(value))
}

export function decodePayload(payload: Uint8Array): unknown {
  return packr.unpack(payload)
}

/** A whole frame: length prefix and payload. */
export function encodeFrame(value: unknown): Buffer {
  const payload = encodePayload(value)
  const frame = Buffer.allocUnsafe(4 + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  payload.copy(frame, 4)
  return frame
}

/**
 * Splits a byte stream into frames. Feed it whatever arrives; it returns the payloads of
 * every frame completed so far and keeps the rest for the next call.
 */
export class FrameReader {
  readonly #peer: string
  #pending: Buffer[] = []
  #pendingBytes = 0
  #needed = 4
  #readingLength = true

  /** `peer` names the other end in errors ("the Python driver"). */
  constructor(peer: string) {
    this.#peer = peer
  }

  /** Bytes received that belong to a frame not yet complete. */
  get bufferedBytes(): number {
    return this.#pendingBytes
  }

  push(data: Buffer): Buffer[] {
    this.#pending.push(data)
    this.#pendingBytes += data.length
    const frames: Buffer[] = []
    while (this.#pendingBytes >= this.#needed) {
      const bytes = this.#take(this.#needed)
      if (this.#readingLength) {
        const length = bytes.readUInt32BE(0)
        if (length > MAX_FRAME_BYTES) {
          throw new SluiceError(
            ErrorCodes.INVALID_ARGUMENT,
            `${this.#peer} sent a frame of ${length} bytes, more than the ${MAX_FRAME_BYTES} allowed: the channel is out of step`,
          )
        }
        this.#needed = length
        this.#readingLength = false
        if (length === 0) {
          frames.push(Buffer.alloc(0))
          this.#needed = 4
          this.#readingLength = true
        }
      } else {
        frames.push(bytes)
        this.#needed = 4
        this.#readingLength = true
      }
    }
    return frames
  }

  #take(count: number): Buffer {
    const joined = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending)
    const taken = joined.subarray(0, count)
    const rest = joined.subarray(count)
    this.#pending = rest.length > 0 ? [rest] : []
    this.#pendingBytes = rest.length
    return taken
  }
}
