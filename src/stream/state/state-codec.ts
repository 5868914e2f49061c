import type { JsonValue } from '../../checkpoint/json-value.ts'
import { describeReceived, describeValue } from '../../core/describe-value.ts'
import { ErrorCodes, invalidOption, messageOf, SluiceError } from '../../core/errors.ts'
import { customOption, nonEmptyString, type OptionType, optionPath } from '../../core/options.ts'

/**
 * Turns keys or states into plain JSON for state snapshots and back. Snapshots must outlive
 * the job's code, so they hold data, never closures or class instances: the default codec
 * accepts plain JSON values only (strings, finite numbers, booleans, null, arrays and plain
 * objects of those) and refuses anything that would not come back equal — a bigint, a Date,
 * a Map, a class instance, `undefined` inside an object. Give a codec for such types.
 */
export interface JsonCodec<T> {
  /**
   * Recorded in every snapshot: a snapshot written with another codec is not loaded (its
   * JSON would be misread). Change it when the encoding changes. Default `custom`.
   */
  readonly name?: string
  encode(value: T): JsonValue
  decode(json: JsonValue): T
}

export const JSON_CODEC_NAME = 'json'

/** The default codec: plain JSON values as they are. */
export const jsonCodec: JsonCodec<never> = {
  name: JSON_CODEC_NAME,
  encode: (value) => value,
  decode: (json) => json as never,
}

/**
 * A codec option: any object (a class instance too) with `encode` and `decode` functions
 * and an optional non-empty `name`. Its other properties are its own business.
 */
export const codecOption: OptionType<JsonCodec<unknown>> = customOption(
  'an object with encode and decode functions',
  (codec, path) => {
    if (codec === null || typeof codec !== 'object') {
      throw invalidOption(
        path,
        `must be an object with encode and decode functions, got ${describeReceived(codec)}`,
      )
    }
    const { encode, decode, name } = codec as Partial<JsonCodec<unknown>>
    if (typeof encode !== 'function' || typeof decode !== 'function') {
      throw invalidOption(path, 'must have encode and decode functions')
    }
    if (name !== undefined) nonEmptyString.parse(name, optionPath(path, 'name'))
    return codec as JsonCodec<unknown>
  },
)

export function resolveCodec<T>(option: string, given: JsonCodec<T> | undefined): Required<JsonCodec<T>> {
  if (given === undefined) return jsonCodec as unknown as Required<JsonCodec<T>>
  const codec = codecOption.parse(given, option) as JsonCodec<T>
  return {
    name: codec.name ?? 'custom',
    encode: (value) => codec.encode(value),
    decode: (json) => codec.decode(json),
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Where `value` stops being plain JSON (a path like `.items[2]`), or undefined when it is plain JSON. */
export function nonJsonPath(value: unknown, path = ''): { path: string; value: unknown } | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : { path, value }
    case 'object': {
      if (value === null) return undefined
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const found = nonJsonPath(value[i], `${path}[${i}]`)
          if (found) return found
        }
        return undefined
      }
      if (!isPlainObject(value)) return { path, value }
      for (const key of Object.keys(value)) {
        const found = nonJsonPath((value as Record<string, unknown>)[key], `${path}.${key}`)
        if (found) return found
      }
      return undefined
    }
    default:
      return { path, value }
  }
}

function describeNonJson(value: unknown): string {
  if (typeof value === 'bigint') return 'a bigint'
  if (typeof value === 'symbol') return 'a symbol'
  if (value instanceof Date) return 'a Date'
  if (value instanceof Map) return 'a Map'
  if (value instanceof Set) return 'a Set'
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return `an instance of ${value.constructor?.name ?? 'a class'}`
  }
  return describeValue(value)
}

/**
 * Encodes a key or a state with `codec` and checks that the result is plain JSON, so that a
 * snapshot reads back exactly what was written. Fails with a STATE error naming the stream,
 * what was encoded and what to do.
 */
export function encodeForSnapshot<T>(
  codec: Required<JsonCodec<T>>,
  value: T,
  what: { stream: string; role: 'key' | 'state'; key: unknown },
): JsonValue {
  let encoded: unknown
  try {
    encoded = codec.encode(value)
  } catch (error) {
    throw new SluiceError(
      ErrorCodes.STATE,
      `state stream '${what.stream}': ${what.role}Codec '${codec.name}' failed to encode the ${what.role} of key ${describeValue(what.key)}: ${messageOf(error)}`,
      { cause: error },
    )
  }
  const found = nonJsonPath(encoded)
  if (found !== undefined) {
    const option = what.role === 'key' ? 'keyCodec' : 'stateCodec'
    const subject =
      what.role === 'key' ? `key ${describeValue(what.key)}` : `the state of key ${describeValue(what.key)}`
    throw new SluiceError(
      ErrorCodes.STATE,
      `state stream '${what.stream}' cannot snapshot ${subject}: ${what.role}${found.path} is ` +
        `${describeNonJson(found.value)}, which plain JSON cannot hold; give the stateful operation a ${option} that encodes it as JSON`,
      { details: { stream: what.stream, path: found.path } },
    )
  }
  return encoded as JsonValue
}
