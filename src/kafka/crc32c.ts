import { createRequire } from 'node:module'

/**
 * CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches. Node's zlib has only
 * CRC-32 (a different polynomial), so sluice uses @node-rs/crc32, whose native code uses the
 * processor's CRC32 instructions (several GB/s; docs/benchmarks.md compares candidates). On a
 * platform without a prebuilt binary it falls back to a slicing-by-8 table in TypeScript,
 * about a fifth as fast and still correct.
 */
const native = loadNative()

export const crc32c: (data: Uint8Array) => number = native ?? ((data) => crc32cTable(data))

/** Which implementation `crc32c` is: 'native' or 'table'. */
export const crc32cImplementation: 'native' | 'table' = native ? 'native' : 'table'

function loadNative(): ((data: Uint8Array) => number) | undefined {
  try {
    const binding = createRequire(import.meta.url)('@node-rs/crc32') as {
      crc32c(data: Uint8Array, initial?: number): number
    }
    return (data) => binding.crc32c(data)
  } catch {
    return undefined
  }
}

/** Eight 256-entry tables: table k holds the CRC of a byte followed by k zero bytes. */
const tables = (() => {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
})()

/** CRC-32C in TypeScript, eight bytes per step (slicing-by-8). */
export function crc32cTable(data: Uint8Array, start = 0, end = data.length): number {
  const t = tables
  let crc = -1
  let i = start
  for (; i + 8 <= end; i += 8) {
    const low = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))
    crc =
      t[1792 + (low & 0xff)]! ^
      t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!
  }
  for (; i < end; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
