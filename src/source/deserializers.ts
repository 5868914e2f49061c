import { invalidOption } from '../core/errors.ts'
import type { PayloadDecoder } from '../kafka/records.ts'

/** How a key or value is turned from bytes into a value: a built-in name or a function. */
export type Deserializer<T> = 'string' | 'json' | 'buffer' | ((payload: Buffer) => T)

export interface Deserializers<K, V> {
  readonly key?: Deserializer<K>
  readonly value?: Deserializer<V>
}

const builtIns: Record<string, PayloadDecoder<unknown>> = {
  string: (payload) => payload.toString('utf8'),
  json: (payload) => JSON.parse(payload.toString('utf8')),
  buffer: (payload) => payload,
}

/** Resolves a deserializer once, at construction; unknown names fail naming the option. */
export function resolveDeserializer<T>(
  deserializer: Deserializer<T> | undefined,
  option: string,
): PayloadDecoder<T> {
  if (deserializer === undefined) return builtIns.buffer as PayloadDecoder<T>
  if (typeof deserializer === 'function') return deserializer
  const builtIn = builtIns[deserializer as string]
  if (!builtIn) {
    throw invalidOption(
      option,
      `must be 'string', 'json', 'buffer' or a function, got ${JSON.stringify(deserializer)}`,
    )
  }
  return builtIn as PayloadDecoder<T>
}
