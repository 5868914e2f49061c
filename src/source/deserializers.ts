import { customOption, type OptionType, oneOf, optionsObject } from '../core/options.ts'
import type { PayloadDecoder } from '../kafka/records.ts'

/** How a key or value is turned from bytes into a value: a built-in name or a function. */
export type Deserializer<T> = 'string' | 'json' | 'buffer' | ((payload: Buffer) => T)

/** How a record's key and value are decoded; each defaults to 'buffer' (the raw bytes). */
export interface Deserializers<K, V> {
  readonly key?: Deserializer<K>
  readonly value?: Deserializer<V>
}

function withRange<T>(
  decode: (payload: Buffer) => T,
  fromRange: (data: Buffer, start: number, end: number) => T,
) {
  return Object.assign(decode, { fromRange }) as PayloadDecoder<T>
}

/** Built-ins decode text straight from the fetched bytes, without a Buffer view per record. */
const builtIns: Record<string, PayloadDecoder<unknown>> = {
  string: withRange(
    (payload) => payload.toString('utf8'),
    (data, start, end) => data.toString('utf8', start, end),
  ),
  json: withRange(
    (payload) => JSON.parse(payload.toString('utf8')),
    (data, start, end) => JSON.parse(data.toString('utf8', start, end)),
  ),
  buffer: (payload) => payload,
}

const builtInName = oneOf(['string', 'json', 'buffer'], "'string', 'json', 'buffer' or a function")

/** A deserializer option: a built-in's name or a function of the payload. */
export const deserializerOption: OptionType<Deserializer<unknown>> = customOption(
  "'string', 'json', 'buffer' or a function",
  (value, path) =>
    typeof value === 'function' ? (value as Deserializer<unknown>) : builtInName.parse(value, path),
)

/** The `deserializers` option: `{ key?, value? }`. */
export const deserializersOption = optionsObject({ key: deserializerOption, value: deserializerOption })

/** Resolves a deserializer once, at construction; unknown names fail naming the option. */
export function resolveDeserializer<T>(
  deserializer: Deserializer<T> | undefined,
  option: string,
): PayloadDecoder<T> {
  if (deserializer === undefined) return builtIns.buffer as PayloadDecoder<T>
  const checked = deserializerOption.parse(deserializer, option) as Deserializer<T>
  // The user's function is called as it is, with no wrapper: a call less per key and value.
  if (typeof checked === 'function') return checked as PayloadDecoder<T>
  return builtIns[checked] as PayloadDecoder<T>
}
