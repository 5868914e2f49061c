import { defaultKeySerializer, type KeySerializer, serializedKeyOf } from './key-serializer.ts'

// Distinct seeds per key type, so that e.g. 1 and '1' (different keys) rarely share a hash.
const SEED_STRING = 0x9e3779b9
const SEED_INTEGER = 0x85ebca6b
const SEED_NUMBER = 0xc2b2ae35
const SEED_BIGINT = 0x27d4eb2f
const SEED_OBJECT = 0x165667b1
const HASH_TRUE = 0x3c6ef372
const HASH_FALSE = 0xa54ff53a
const HASH_NULL = 0x510e527f
const HASH_UNDEFINED = 0x9b05688c

/**
 * A 32-bit hash of a key's identity that depends only on its value, so the same key lands in
 * the same partition in every run and every process (unlike anything based on object identity).
 * `serialized` is the key's serialized form when it is an object key.
 */
export function hashKey(key: unknown, serialized: string | undefined): number {
  if (serialized !== undefined) return hashString(serialized, SEED_OBJECT)
  switch (typeof key) {
    case 'string':
      return hashString(key, SEED_STRING)
    case 'number':
      // Small integers skip string conversion; -0 | 0 is 0, so 0 and -0 (equal keys) agree.
      return (key | 0) === key ? mix32((key ^ SEED_INTEGER) >>> 0) : hashString(String(key), SEED_NUMBER)
    case 'bigint':
      return hashString(key.toString(), SEED_BIGINT)
    case 'boolean':
      return key ? HASH_TRUE : HASH_FALSE
    case 'undefined':
      return HASH_UNDEFINED
    default:
      return HASH_NULL
  }
}

/** Which of `numPartitions` buckets a key goes to (Spark's HashPartitioner, on a stable hash). */
export function bucketOf(key: unknown, serialized: string | undefined, numPartitions: number): number {
  return hashKey(key, serialized) % numPartitions
}

/** The reduce partition a shuffle into `numPartitions` partitions sends `key` to. */
export function partitionOfKey<K>(
  key: K,
  numPartitions: number,
  keySerializer: KeySerializer<K> = defaultKeySerializer,
): number {
  return bucketOf(key, serializedKeyOf(key, keySerializer), numPartitions)
}

/** FNV-1a over UTF-16 code units, finished with a murmur3 mix for better low bits. */
function hashString(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return mix32(hash)
}

function mix32(value: number): number {
  let h = value
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
