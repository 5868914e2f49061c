import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'

/**
 * Checkpoints must outlive the code that wrote them, so everything stored in one is plain
 * JSON: no bigints (offsets are stored as decimal strings by their own codec), no
 * functions, no class instances whose meaning depends on code.
 */
export type JsonPrimitive = string | number | boolean | null
/** A plain JSON value: what checkpoints and state snapshots hold. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject
/** A plain JSON object. */
export type JsonObject = { [key: string]: JsonValue }

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Path of the first value that JSON cannot carry faithfully, or undefined when it is plain JSON. */
function firstNonJson(value: unknown, path: string): { path: string; value: unknown } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, value }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstNonJson(value[i], `${path}[${i}]`)
      if (found) return found
    }
    return undefined
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const found = firstNonJson(child, `${path}.${key}`)
      if (found) return found
    }
    return undefined
  }
  return { path, value }
}

/**
 * Checks that `value` is a plain JSON object, so it survives a write/read round trip
 * unchanged. `what` names the argument in the error (`metadata of planned batch 7`) and
 * `root` starts the path of the offending field (`metadata.lost`).
 */
export function assertJsonObject(value: unknown, what: string, root: string): asserts value is JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what} must be a plain JSON object, got ${describeValue(value)}`,
    )
  }
  const found = firstNonJson(value, root)
  if (found) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what} must be plain JSON, but ${found.path} is ${describeValue(found.value)}`,
    )
  }
}

/** Checks that `value` is plain JSON of any shape (object, array, string, number, boolean, null). */
export function assertJsonValue(value: unknown, what: string, root: string): asserts value is JsonValue {
  const found = firstNonJson(value, root)
  if (found) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what} must be plain JSON, but ${found.path} is ${describeValue(found.value)}`,
    )
  }
}

/**
 * JSON with object keys sorted at every level: the same value always gives the same text,
 * whatever order the keys were written in, so it can be hashed.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`
}
