/**
 * How a value appears in an error message about that value ("planned batch -1", "key "k1""):
 * strings quoted so that an empty or padded string is visible, bigints with their `n`, and
 * containers by kind only so a large object never floods a message.
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

/**
 * How a value of the wrong kind appears after "got": its type first, then the value where it
 * is short enough to show — `a string ("1000")`, `a number (NaN)`, `a bigint (5n)`, `null`.
 * Strings are quoted so an empty or padded string is visible; containers are named by kind
 * (or class) only, so a large object never floods a message.
 */
export function describeReceived(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)})`
    case 'number':
      return `a number (${value})`
    case 'bigint':
      return `a bigint (${value}n)`
    case 'boolean':
      return `a boolean (${value})`
    case 'undefined':
      return 'undefined'
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array (length ${value.length})`
  const className = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof className === 'string' && className !== '' && className !== 'Object'
    ? `${/^[AEIOU]/.test(className) ? 'an' : 'a'} ${className}`
    : 'an object'
}
