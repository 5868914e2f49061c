/**
 * A rough model of how many bytes a value occupies on the V8 heap, for BatchInfo's
 * `stateBytes`. JavaScript cannot measure an object's size, so this counts what a 64-bit V8
 * typically allocates: 8-byte slots, object headers, one byte per character of an ASCII
 * string. It ignores sharing (a string used by two keys counts twice), hidden classes and
 * allocator slack, so it can be off by a factor of two either way. It is meant for trends
 * and for comparing streams, not for accounting.
 */

/** Header of a heap object (map, properties, elements). */
const OBJECT_HEADER = 24
const SLOT = 8
/** Strings: header and length, then the characters (one byte each for ASCII). */
const STRING_HEADER = 16
/** Beyond this depth the model stops walking and counts a fixed amount. */
const MAX_DEPTH = 6
const DEEP_VALUE = 64

export function estimateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return STRING_HEADER + Math.ceil(value.length / SLOT) * SLOT
    case 'number':
      // Small integers live in the slot itself; other numbers are boxed.
      return Number.isInteger(value) && Math.abs(value) < 2 ** 30 ? 0 : 16
    case 'bigint':
      return 16 + SLOT * Math.ceil(value.toString(16).length / 16)
    case 'object':
      break
    default:
      return 0
  }
  if (value === null) return 0
  if (depth >= MAX_DEPTH) return DEEP_VALUE
  if (Array.isArray(value)) {
    let bytes = OBJECT_HEADER + OBJECT_HEADER + SLOT * value.length
    for (let i = 0; i < value.length; i++) bytes += estimateBytes(value[i], depth + 1)
    return bytes
  }
  if (value instanceof Map || value instanceof Set) {
    let bytes = OBJECT_HEADER * 3 + 3 * SLOT * value.size
    for (const item of value) bytes += estimateBytes(item, depth + 1)
    return bytes
  }
  if (ArrayBuffer.isView(value)) return OBJECT_HEADER * 2 + value.byteLength
  if (value instanceof Date) return OBJECT_HEADER + SLOT
  let bytes = OBJECT_HEADER
  for (const key of Object.keys(value)) {
    bytes += SLOT + estimateBytes((value as Record<string, unknown>)[key], depth + 1)
  }
  return bytes
}

/**
 * What one state entry costs beyond its key and state: the entry object (key, serialized
 * key, state and three counters) and its slot in a Map's hash table (three words, plus the
 * bucket array and the spare capacity a hash table keeps). Measured: 141 bytes per entry for
 * a million short string keys with number states, against an estimate of 136.
 */
export const ENTRY_OVERHEAD = OBJECT_HEADER + 6 * SLOT + 5 * SLOT
