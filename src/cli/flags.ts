/**
 * The flags a command takes: each declares its name, the placeholder of its value (none for
 * a switch), a one-line description for the help, and how its text is turned into a value.
 * A value that does not parse is a usage error naming the flag, caught before the command
 * runs anything.
 */

/** A command-line mistake: the command line is refused with exit code 2 and its usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
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
}

/** A flag spec that always has a value: its `default` is given. */
type WithDefault<T, O> = O extends { readonly default: T } ? { readonly default: T } : unknown

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

/** The parsed flags of a command: flags with a default always have a value. */
export type FlagValues<F extends FlagSpecs> = {
  readonly [K in keyof F]: F[K] extends { readonly default: infer D }
    ? Exclude<D, undefined>
    : F[K] extends FlagSpec<infer T>
      ? T | undefined
      : never
}
