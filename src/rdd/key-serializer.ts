import { ErrorCodes, SluiceError } from '../core/errors.ts'

/** Turns an object key into a string that is equal exactly when the keys should group together. */
export type KeySerializer<K> = (key: K) => string

/** Keys compared by value as they are (a Map already does): `1`, `1n`, `'1'` and `true` all differ. */
export type ValueKey = string | number | bigint | boolean | null | undefined

export function isValueKey(key: unknown): key is ValueKey {
  const type = typeof key
  return key === null || (type !== 'object' && type !== 'function' && type !== 'symbol')
}

/**
 * The string an object key is grouped by, or undefined for a value key (which groups as
 * itself). Symbols cannot be keys: nothing about them is stable across runs.
 */
export function serializedKeyOf<K>(key: K, serializer: KeySerializer<K>): string | undefined {
  if (isValueKey(key)) return undefined
  if (typeof key === 'symbol') throw badKey('a symbol cannot be a shuffle key')
  const serialized = serializer(key)
  if (typeof serialized !== 'string') {
    throw badKey(`keySerializer must return a string, got ${typeof serialized}`)
  }
  return serialized
}

/**
 * The default serializer: JSON with sorted object keys, extended so that distinct keys never
 * collide — bigints print as `12n`, `undefined`/`NaN`/`Infinity` as themselves, Dates, Maps and
 * Sets are tagged (Maps and Sets sorted, so insertion order does not matter). Like JSON,
 * object properties holding undefined are left out and class instances compare by fields.
 */
export function defaultKeySerializer(key: unknown): string {
  return write(key, new Set())
}

function write(value: unknown, path: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // JSON.stringify maps -0 to "0" (equal keys) but NaN and ±Infinity to "null" (a collision).
      return Number.isFinite(value) ? JSON.stringify(value) : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
      return 'undefined'
    case 'symbol':
      throw badKey('a symbol cannot be part of a shuffle key')
    case 'function':
      throw badKey('a function cannot be part of a shuffle key')
  }
  if (value === null) return 'null'
  const object = value as object
  if (path.has(object)) throw badKey('a shuffle key cannot contain a circular reference')
  path.add(object)
  try {
    return writeObject(object, path)
  } finally {
    path.delete(object)
  }
}

function writeObject(object: object, path: Set<object>): string {
  if (Array.isArray(object)) {
    const items: string[] = []
    for (let i = 0; i < object.length; i++) items.push(write(object[i], path))
    return `[${items.join(',')}]`
  }
  if (object instanceof Date) return `Date(${Number.isNaN(object.getTime()) ? 'NaN' : object.toISOString()})`
  if (object instanceof Map) {
    const entries = [...object].map(([k, v]) => `${write(k, path)}:${write(v, path)}`)
    return `Map{${entries.sort().join(',')}}`
  }
  if (object instanceof Set) {
    return `Set{${[...object]
      .map((v) => write(v, path))
      .sort()
      .join(',')}}`
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return write(toJSON.call(object), path)
  const fields: string[] = []
  for (const name of Object.keys(object).sort()) {
    const field = (object as Record<string, unknown>)[name]
    if (field === undefined || typeof field === 'function') continue
    fields.push(`${JSON.stringify(name)}:${write(field, path)}`)
  }
  return `{${fields.join(',')}}`
}

function badKey(problem: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, problem)
}
