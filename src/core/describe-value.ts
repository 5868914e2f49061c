/**
 * How a rejected value appears in an error message: strings quoted so that an empty or
 * padded string is visible, bigints with their `n`, and containers by kind only so a
 * large object never floods a message.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'function') return 'a function'
  return String(value)
}
