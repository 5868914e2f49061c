import { describeValue } from '../core/describe-value.ts'
import { damagedFile } from './checkpoint-errors.ts'
import type { JsonObject, JsonValue } from './json-value.ts'

/** Offsets are non-negative decimal strings on disk, without sign, exponent or leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)$/

/**
 * Reads typed fields out of a checkpoint file that already passed its checksum, so a
 * malformed one (written by a buggy or foreign tool) fails with the file and field named
 * instead of surfacing later as a NaN offset.
 */
export class FieldReader {
  readonly #file: string
  readonly #dir: string

  constructor(file: string, dir: string) {
    this.#file = file
    this.#dir = dir
  }

  #malformed(path: string, expected: string, value: unknown): Error {
    return damagedFile(
      this.#file,
      this.#dir,
      `is malformed: '${path}' must be ${expected}, got ${describeValue(value)}`,
    )
  }

  object(value: JsonValue | undefined, path: string): JsonObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.#malformed(path, 'an object', value)
    }
    return value
  }

  optionalObject(value: JsonValue | undefined, path: string): JsonObject | undefined {
    return value === undefined ? undefined : this.object(value, path)
  }

  array(value: JsonValue | undefined, path: string): JsonValue[] {
    if (!Array.isArray(value)) throw this.#malformed(path, 'an array', value)
    return value
  }

  nonEmptyString(value: JsonValue | undefined, path: string): string {
    if (typeof value !== 'string' || value === '') throw this.#malformed(path, 'a non-empty string', value)
    return value
  }

  nonNegativeInteger(value: JsonValue | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.#malformed(path, 'a non-negative integer', value)
    }
    return value
  }

  offset(value: JsonValue | undefined, path: string): bigint {
    if (typeof value !== 'string' || !DECIMAL.test(value)) {
      throw this.#malformed(path, 'a decimal string (an offset)', value)
    }
    return BigInt(value)
  }

  /** A consistency problem that no single field shows, for example two fields disagreeing. */
  problem(description: string): Error {
    return damagedFile(this.#file, this.#dir, `is malformed: ${description}`)
  }
}
