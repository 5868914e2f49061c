import { invalidOption } from '../core/errors.ts'

/** How a bad option value reads in an error message: strings quoted, everything else as written. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value !== null && typeof value === 'object') return 'an object'
  return String(value)
}

/** Returns `value`, or `fallback` when it is undefined; throws INVALID_OPTION naming `option` otherwise. */
export function positiveIntegerOption(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidOption(option, `must be a positive integer, got ${describeValue(value)}`, { value })
  }
  return value
}

export function nonNegativeNumberOption(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidOption(option, `must be a non-negative finite number, got ${describeValue(value)}`, {
      value,
    })
  }
  return value
}

export function functionOption<F extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  fallback?: F,
): F {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'function') {
    throw invalidOption(option, `must be a function, got ${describeValue(value)}`)
  }
  return value as F
}
