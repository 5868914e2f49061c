/**
 * The flags a command takes: each declares its name, the placeholder of its value (none for
 * a switch), a one-line description for the help, and how its text is turned into a value.
 * A value that does not parse is a usage error naming the flag, caught before the command
 * runs anything.
 */

import { SluiceError } from '../core/errors.ts'

/** A command-line mistake: the command line is refused with exit code 2 and its usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * An argument that parses but names the wrong thing: a path that is not a checkpoint, a
 * file that is missing or does not hold what it must. The command fails as with any
 * SluiceError (`sluice: <message> [<code>]`, without the usage: the syntax was right) but
 * exits 2, as a usage error does, so a script tells a wrong command line (2) from a command
 * that failed (1).
 */
export class ArgumentError extends SluiceError {
  /** The same error, as an argument's: `error` names what the argument pointed at. */
  static from(error: SluiceError): ArgumentError {
    return new ArgumentError(error.code, error.message, {
      details: { ...error.details },
      ...(error.cause === undefined ? {} : { cause: error.cause }),
    })
  }
}

/** The reasons (`details.reason`) of library errors that mean "this path names the wrong thing". */
const wrongPathReasons = new Set(['not-a-checkpoint', 'no-such-file', 'no-such-table'])

/** Rethrows `error`, as an ArgumentError when it says that a path the user gave names the wrong thing. */
export function rethrowAsArgumentError(error: unknown): never {
  if (error instanceof SluiceError && wrongPathReasons.has(String(error.details.reason))) {
    throw ArgumentError.from(error)
  }
  throw error
}

export interface FlagSpec<T> {
  /** One line for the help. */
  readonly description: string
  /** The placeholder of the flag's value in the help (`N`, `DIR`); a switch has none. */
  readonly value?: string
  /** A one-letter alias (`-p`). */
  readonly short?: string
  /** Turns the given text into the value; throws UsageError with what is wrong ("must be ..."). */
  readonly parse: (text: string) => T
  /** The value when the flag is not given, shown in the help. */
  readonly default?: T
  /** The command needs it: the usage shows it without brackets, and a command line without it is refused. */
  readonly required?: boolean
}

/** A flag spec that always has a value: its `default` is given, or it is required. */
type WithDefault<T, O> = O extends { readonly default: T }
  ? { readonly default: T }
  : O extends { readonly required: true }
    ? { readonly required: true }
    : unknown

/** A switch: present or not, never with a value. */
export function booleanFlag(
  description: string,
  short?: string,
): FlagSpec<boolean> & { readonly default: boolean } {
  return {
    description,
    ...(short === undefined ? {} : { short }),
    parse: () => true,
    default: false,
  }
}

export interface ValueFlagOptions<T> {
  readonly description: string
  readonly value: string
  readonly short?: string
  readonly default?: T
  readonly required?: boolean
}

export function stringFlag<const O extends ValueFlagOptions<string>>(
  options: O,
): FlagSpec<string> & WithDefault<string, O> {
  const spec: FlagSpec<string> = {
    ...options,
    parse: (text) => {
      if (text === '') throw new UsageError('must not be empty')
      return text
    },
  }
  return spec as FlagSpec<string> & WithDefault<string, O>
}

export function integerFlag<const O extends ValueFlagOptions<number> & { min: number; max: number }>(
  options: O,
): FlagSpec<number> & WithDefault<number, O> {
  const { min, max, ...rest } = options
  const spec: FlagSpec<number> = {
    ...rest,
    parse: (text) => {
      const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new UsageError(`must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`)
      }
      return value
    },
  }
  return spec as FlagSpec<number> & WithDefault<number, O>
}

/** A TCP port to listen on or connect to. */
export function portFlag<const O extends ValueFlagOptions<number>>(
  options: O,
): FlagSpec<number> & WithDefault<number, O> {
  return integerFlag({ ...options, min: 1, max: 65_535 }) as FlagSpec<number> & WithDefault<number, O>
}

export function choiceFlag<
  const V extends string,
  const O extends ValueFlagOptions<V> & { choices: readonly V[] },
>(options: O): FlagSpec<V> & WithDefault<V, O> {
  const { choices, ...rest } = options
  const spec: FlagSpec<V> = {
    ...rest,
    parse: (text) => {
      if ((choices as readonly string[]).includes(text)) return text as V
      throw new UsageError(`must be one of ${choices.join(', ')}, got ${JSON.stringify(text)}`)
    },
  }
  return spec as FlagSpec<V> & WithDefault<V, O>
}

export type FlagSpecs = Readonly<Record<string, FlagSpec<unknown>>>

/** The parsed flags of a command: flags with a default, and required ones, always have a value. */
export type FlagValues<F extends FlagSpecs> = {
  readonly [K in keyof F]: F[K] extends { readonly default: infer D }
    ? Exclude<D, undefined>
    : F[K] extends FlagSpec<infer T>
      ? F[K] extends { readonly required: true }
        ? T
        : T | undefined
      : never
}
