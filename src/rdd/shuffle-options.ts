import { functionOption, optionsObject, parseOptions, positiveInteger } from '../core/options.ts'
import { defaultKeySerializer, type KeySerializer } from './key-serializer.ts'

/** Options of the key-value operations that shuffle (`reduceByKey`, `groupByKey`, `join`...). */
export interface ShuffleOptions<K> {
  /** Reduce partitions; default: the parent's partition count (the larger one for joins). */
  numPartitions?: number
  /** How object and array keys are compared; default `defaultKeySerializer`. Value keys ignore it. */
  keySerializer?: KeySerializer<K>
}

export interface ShuffleSpec<K> {
  readonly numPartitions: number
  readonly keySerializer: KeySerializer<K>
}

/** The schema fields of ShuffleOptions, for the options types that extend it. */
export const shuffleOptionFields = {
  numPartitions: positiveInteger,
  keySerializer: functionOption<KeySerializer<unknown>>(),
}

const shuffleOptions = optionsObject(shuffleOptionFields)

/** Validates options when the shuffle is declared, so a bad option never reaches a task. */
export function resolveShuffleOptions<K>(
  options: ShuffleOptions<K> | undefined,
  defaultPartitions: number,
  owner: string,
): ShuffleSpec<K> {
  const given = parseOptions(shuffleOptions, options ?? {}, owner)
  return {
    numPartitions: given.numPartitions ?? Math.max(defaultPartitions, 1),
    keySerializer: (given.keySerializer as KeySerializer<K> | undefined) ?? defaultKeySerializer,
  }
}
