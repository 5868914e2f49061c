/**
 * The one vocabulary every options object of sluice is checked with. A module declares its
 * options once, at load time, as a schema — a record of option types — and keeps its
 * defaults apart; at construction it parses what the user gave against the schema:
 *
 *   const contextOptions = optionsObject({ appName: required(nonEmptyString), batchInterval: ... })
 *   const given = parseOptions(contextOptions, options, 'new StreamingContext')
 *   const settings = { ...CONTEXT_DEFAULTS, ...given }
 *
 * Parsing refuses what the schema does not know, and every message names the option as the
 * user spelled it, nested paths included (`backpressure.pid.proportional`, `tables[2]`):
 * - an unknown key: "unknown option 'startingOffset' — did you mean 'startingOffsets'?"
 * - a wrong type: "option 'batchInterval' must be a number, got a string ("1000")"
 * - a value out of range: "option 'batchInterval' must be at most 2147483647 ..., got 3000000000"
 * Parsed objects hold only the keys the user gave a defined value for, so spreading them over
 * the defaults never replaces a default with undefined.
 */
import { describeReceived } from './describe-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from './errors.ts'
import type { Logger } from './logger.ts'

/** The longest delay a Node.js timer honours: a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** The largest value of a Kafka INT32 field (partition numbers, byte sizes, timeouts). */
export const MAX_INT32 = 2 ** 31 - 1

/** One kind of option value: what it must be (for messages), and how a given value is checked. */
export interface OptionType<T> {
  /** What a valid value is, as messages say it: "a positive integer". */
  readonly expected: string
  /** Returns the value (possibly normalized); throws INVALID_OPTION naming `path` when it is not valid. */
  parse(value: unknown, path: string): T
}

/** Marks a field of a schema as one the user must give. */
export interface RequiredOption<T> {
  readonly required: OptionType<T>
}

export type OptionField = OptionType<unknown> | RequiredOption<unknown>
export type OptionFields = Readonly<Record<string, OptionField>>

type RequiredKeys<F extends OptionFields> = {
  [K in keyof F]: F[K] extends RequiredOption<unknown> ? K : never
}[keyof F]

/** What parsing a schema's fields gives: required fields present, optional ones only when given. */
export type ParsedOptions<F extends OptionFields> = {
  [K in RequiredKeys<F>]: F[K] extends RequiredOption<infer T> ? T : never
} & {
  [K in Exclude<keyof F, RequiredKeys<F>>]?: F[K] extends OptionType<infer T> ? T : never
}

/** An options object's type, with the field names it knows (for callers that compose schemas). */
export interface ObjectOptionType<T> extends OptionType<T> {
  readonly fields: OptionFields
}

export function required<T>(type: OptionType<T>): RequiredOption<T> {
  return { required: type }
}

/** `path.key`, or `key` at the top level. */
export function optionPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function wrongValue(path: string, expected: string, value: unknown, hint = ''): SluiceError {
  return invalidOption(path, `must be ${expected}, got ${describeReceived(value)}${hint}`, { value })
}

// ---- closest names, for "did you mean" ----

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array(rows * cols).fill(0)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1)
      }
      d[i * cols + j] = best
    }
  }
  return d[rows * cols - 1]!
}

/**
 * The known name a misspelt one most likely meant: the nearest by edit distance (case
 * ignored) within a third of its length, or one that extends or shortens it
 * (`checkpointDir` → `checkpoint`); undefined when nothing is close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const other = candidate.toLowerCase()
    let distance = editDistance(lower, other)
    const shorter = Math.min(lower.length, other.length)
    if (distance > Math.max(1, Math.floor(lower.length / 3))) {
      const prefix = shorter >= 4 && (lower.startsWith(other) || other.startsWith(lower))
      if (!prefix) continue
      distance = Math.abs(lower.length - other.length)
    }
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** The error for a key no schema knows: names it, and the closest known key or the known keys. */
export function unknownOption(path: string, key: string, known: readonly string[]): SluiceError {
  const option = optionPath(path, key)
  const suggestion = closestName(key, known)
  const message =
    suggestion === undefined
      ? `unknown option '${option}' (known: ${known.join(', ')})`
      : `unknown option '${option}' — did you mean '${optionPath(path, suggestion)}'?`
  return new SluiceError(ErrorCodes.INVALID_OPTION, message, {
    details: { option, known: [...known], ...(suggestion === undefined ? {} : { suggestion }) },
  })
}

// ---- scalar types ----

export const booleanOption: OptionType<boolean> = {
  expected: 'a boolean',
  parse(value, path) {
    if (typeof value !== 'boolean') throw wrongValue(path, 'a boolean', value)
    return value
  },
}

export interface StringConstraints {
  /** Refuse '' and strings of whitespace only. Default true. */
  readonly nonEmpty?: boolean
  /** Further rule: returns what is wrong ("is not a valid URL"), or undefined when the string is fine. */
  readonly problem?: (value: string) => string | undefined
  /** What the string is, for messages: "a topic name". Default "a non-empty string". */
  readonly expected?: string
}

export function stringOption(constraints: StringConstraints = {}): OptionType<string> {
  const nonEmpty = constraints.nonEmpty ?? true
  const expected = constraints.expected ?? (nonEmpty ? 'a non-empty string' : 'a string')
  return {
    expected,
    parse(value, path) {
      if (typeof value !== 'string') throw wrongValue(path, expected, value)
      if (nonEmpty && value.trim() === '') throw wrongValue(path, expected, value)
      const problem = constraints.problem?.(value)
      if (problem !== undefined) throw invalidOption(path, problem, { value })
      return value
    },
  }
}

export const nonEmptyString: OptionType<string> = stringOption()

export interface NumberConstraints {
  /** Only whole numbers. */
  readonly integer?: boolean
  /** Smallest allowed value (inclusive). */
  readonly min?: number
  /** Values must be strictly greater than this. */
  readonly above?: number
  /** Largest allowed value (inclusive). */
  readonly max?: number
  /** Why `max` is the limit, appended to its message: "the longest timer Node.js runs". */
  readonly maxReason?: string
  /** What the number counts, for messages: "milliseconds", "records per second". */
  readonly unit?: string
}

function numberExpected(c: NumberConstraints): string {
  const kind = c.integer ? 'integer' : 'number'
  let what: string
  if (c.min === 0) what = `a non-negative ${kind}`
  else if (c.min === 1 && c.integer) what = 'a positive integer'
  else if (c.above === 0) what = `a positive ${kind}`
  else if (c.min !== undefined)
    what = `${kind === 'integer' ? 'an integer' : 'a number'} of at least ${c.min}`
  else what = kind === 'integer' ? 'an integer' : 'a finite number'
  if (c.unit !== undefined) what += ` of ${c.unit}`
  return c.max === undefined ? what : `${what} up to ${c.max}`
}

export function numberOption(constraints: NumberConstraints = {}): OptionType<number> {
  const expected = numberExpected(constraints)
  const unit = constraints.unit === undefined ? '' : ` (${constraints.unit})`
  return {
    expected,
    parse(value, path) {
      if (typeof value !== 'number') throw wrongValue(path, 'a number', value)
      if (!Number.isFinite(value)) throw wrongValue(path, `a finite number${unit}`, value)
      if (constraints.integer && !Number.isInteger(value)) throw wrongValue(path, `an integer${unit}`, value)
      if (constraints.min !== undefined && value < constraints.min) {
        throw invalidOption(path, `must be at least ${constraints.min}${unit}, got ${value}`, { value })
      }
      if (constraints.above !== undefined && value <= constraints.above) {
        throw invalidOption(path, `must be greater than ${constraints.above}${unit}, got ${value}`, { value })
      }
      if (constraints.max !== undefined && value > constraints.max) {
        const reason = constraints.maxReason === undefined ? '' : `: ${constraints.maxReason}`
        throw invalidOption(path, `must be at most ${constraints.max}${unit}${reason}, got ${value}`, {
          value,
        })
      }
      return value
    },
  }
}

export function integerOption(constraints: Omit<NumberConstraints, 'integer'> = {}): OptionType<number> {
  return numberOption({ ...constraints, integer: true })
}

export const positiveInteger: OptionType<number> = integerOption({ min: 1 })

/**
 * Whole milliseconds that feed a timer, from `min` (default 1) up to the longest delay a
 * Node.js timer honours — above it, a timer fires after 1 ms, which turns a long interval
 * into a busy loop.
 */
export function durationMs(min = 1): OptionType<number> {
  return integerOption({
    min,
    max: MAX_TIMER_MS,
    maxReason: 'the longest delay a Node.js timer honours',
    unit: 'milliseconds',
  })
}

/**
 * One of a fixed set of strings; a near miss gets "did you mean". `expected` rewords the
 * message when the option also takes other forms ("'earliest', 'latest' or { timestamp }").
 */
export function oneOf<const V extends string>(
  values: readonly V[],
  expected = `one of ${values.map((v) => `'${v}'`).join(', ')}`,
): OptionType<V> {
  return {
    expected,
    parse(value, path) {
      if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as V
      const near = typeof value === 'string' ? closestName(value, values) : undefined
      throw wrongValue(path, expected, value, near === undefined ? '' : ` — did you mean '${near}'?`)
    },
  }
}

export function functionOption<F>(): OptionType<F> {
  return {
    expected: 'a function',
    parse(value, path) {
      if (typeof value !== 'function') throw wrongValue(path, 'a function', value)
      return value as F
    },
  }
}

/** An instance of a class (`RegExp`, `AbortSignal`...), named in messages as `expected`. */
export function instanceOption<T>(
  type: abstract new (...args: never[]) => T,
  expected: string,
): OptionType<T> {
  return {
    expected,
    parse(value, path) {
      if (!(value instanceof type)) throw wrongValue(path, expected, value)
      return value
    },
  }
}

export const signalOption: OptionType<AbortSignal> = instanceOption(AbortSignal, 'an AbortSignal')

const loggerExpected = 'a Logger (an object with debug, info, warn, error and child methods)'

/** Anything that logs like sluice's Logger (pino's loggers too): debug, info, warn, error and child. */
export const loggerOption: OptionType<Logger> = {
  expected: loggerExpected,
  parse(value, path) {
    if (value === null || typeof value !== 'object') throw wrongValue(path, loggerExpected, value)
    const methods = ['debug', 'info', 'warn', 'error', 'child'] as const
    const missing = methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
    if (missing.length > 0) {
      throw invalidOption(path, `must be ${loggerExpected}; it has no ${missing.join(', ')} method`)
    }
    return value as Logger
  },
}

/** A type written by hand, for values no combinator describes. */
export function customOption<T>(expected: string, parse: (value: unknown, path: string) => T): OptionType<T> {
  return { expected, parse }
}

/** A value that is one of two types, told apart by `isFirst` (e.g. a number or an object). */
export function eitherOption<A, B>(
  isFirst: (value: unknown) => boolean,
  first: OptionType<A>,
  second: OptionType<B>,
): OptionType<A | B> {
  const expected = `${first.expected} or ${second.expected}`
  return {
    expected,
    parse: (value, path) => (isFirst(value) ? first.parse(value, path) : second.parse(value, path)),
  }
}

// ---- containers ----

export interface ArrayConstraints {
  readonly nonEmpty?: boolean
  /** What the array is, for messages: "an array of topic names". */
  readonly expected?: string
}

export function arrayOption<T>(item: OptionType<T>, constraints: ArrayConstraints = {}): OptionType<T[]> {
  const expected =
    constraints.expected ??
    `${constraints.nonEmpty ? 'a non-empty array' : 'an array'}, each ${item.expected}`
  return {
    expected,
    parse(value, path) {
      if (!Array.isArray(value)) throw wrongValue(path, expected, value)
      if (constraints.nonEmpty && value.length === 0) throw wrongValue(path, expected, value)
      return value.map((element, i) => item.parse(element, `${path}[${i}]`))
    },
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * An object whose keys are the user's (topic names, partitions): each key checked by
 * `key` (returns what is wrong with it, or undefined) and each value by `value`.
 */
export function recordOption<T>(
  expected: string,
  value: OptionType<T>,
  keyProblem?: (key: string) => string | undefined,
): OptionType<Record<string, T>> {
  return {
    expected,
    parse(given, path) {
      if (!isPlainObject(given)) throw wrongValue(path, expected, given)
      const result: Record<string, T> = {}
      for (const [key, element] of Object.entries(given)) {
        const problem = keyProblem?.(key)
        if (problem !== undefined) throw invalidOption(optionPath(path, key), problem)
        result[key] = value.parse(element, optionPath(path, key))
      }
      return result
    },
  }
}

/**
 * An options object: known keys only, each checked by its type, required ones present.
 * `check` runs after the fields, for rules between them (a minimum below a maximum, one of
 * two alternatives given); it throws with `invalidOption(optionPath(path, key), ...)`.
 */
export function optionsObject<F extends OptionFields>(
  fields: F,
  check?: (parsed: ParsedOptions<F>, path: string) => void,
): ObjectOptionType<ParsedOptions<F>> {
  const known = Object.keys(fields)
  const knownSet = new Set(known)
  const entries = Object.entries(fields).map(([key, field]) => {
    const isRequired = 'required' in field
    return { key, type: isRequired ? field.required : field, isRequired }
  })
  return {
    expected: 'an object',
    fields,
    parse(value, path) {
      if (!isPlainObject(value)) {
        throw path === ''
          ? new SluiceError(
              ErrorCodes.INVALID_OPTION,
              `options must be an object, got ${describeReceived(value)}`,
              {
                details: { option: 'options' },
              },
            )
          : wrongValue(path, 'an object', value)
      }
      for (const key of Object.keys(value)) {
        if (!knownSet.has(key)) throw unknownOption(path, key, known)
      }
      const parsed: Record<string, unknown> = {}
      for (const { key, type, isRequired } of entries) {
        const given = value[key]
        if (given === undefined) {
          if (isRequired) {
            throw invalidOption(optionPath(path, key), `is required (${type.expected})`)
          }
          continue
        }
        parsed[key] = type.parse(given, optionPath(path, key))
      }
      check?.(parsed as ParsedOptions<F>, path)
      return parsed as ParsedOptions<F>
    },
  }
}

/**
 * Parses a top-level options object; `owner` ("createDirectStream") prefixes the messages so
 * the user knows which call refused it, e.g.
 * "createDirectStream: unknown option 'startingOffset' — did you mean 'startingOffsets'?".
 */
export function parseOptions<T>(type: OptionType<T>, value: unknown, owner: string): T {
  return withOwner(owner, () => type.parse(value, ''))
}

/**
 * Runs `check` and prefixes the message of an INVALID_OPTION error it throws with `owner`,
 * for rules checked after parsing (ones that need more than the options object).
 */
export function withOwner<T>(owner: string, check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (error instanceof SluiceError && error.code === ErrorCodes.INVALID_OPTION) {
      throw new SluiceError(ErrorCodes.INVALID_OPTION, `${owner}: ${error.message}`, {
        details: { ...error.details, owner },
      })
    }
    throw error
  }
}

/** The object without its undefined properties, for passing optional settings on. */
export function definedOnly<T extends Record<string, unknown>>(
  object: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const result: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(object)) if (value !== undefined) result[key] = value
  return result as { [K in keyof T]?: Exclude<T[K], undefined> }
}

/** A single option or argument on its own: `fallback` when undefined, else checked by `type`. */
export function optionOrDefault<T>(type: OptionType<T>, value: unknown, path: string, fallback: T): T {
  return value === undefined ? fallback : type.parse(value, path)
}

/** A function argument (`map(fn)`), or `fallback` when it is undefined and there is one. */
export function functionArgument<F>(name: string, value: F, fallback?: F): F {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'function') throw wrongValue(name, 'a function', value)
  return value
}
