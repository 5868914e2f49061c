import { invalidOption } from '../core/errors.ts'
import type { PayloadDecoder } from '../kafka/records.ts'

/** How a key or value is turned from bytes into a value: a built-in name or a function. */
export type Deserializer<T> = 'string' | 'json' | 'buffer' | ((payload: Buffer) => T)

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

/** Resolves a deserializer once, at construction; unknown names fail naming the option. */
export function resolveDeserializer<T>(
  deserializer: Deserializer<T> | undefined,
  option: string,
): PayloadDecoder<T> {
  if (deserializer === undefined) return builtIns.buffer as PayloadDecoder<T>
  // The user's function is called as it is, with no wrapper: a call less per key and value.
  if (typeof deserializer === 'function') return deserializer as PayloadDecoder<T>
  const builtIn = builtIns[deserializer as string]
  if (!builtIn) {
    throw invalidOption(
      option,
      `must be 'string', 'json', 'buffer' or a function, got ${JSON.stringify(deserializer)}`,
    )
  }
  return builtIn as PayloadDecoder<T>
}
