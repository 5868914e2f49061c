import { defaultKeySerializer, type KeySerializer } from './key-serializer.ts'
import { functionOption, positiveIntegerOption } from './option-checks.ts'

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

/** Validates options when the shuffle is declared, so a bad option never reaches a task. */
export function resolveShuffleOptions<K>(
  options: ShuffleOptions<K> | undefined,
  defaultPartitions: number,
): ShuffleSpec<K> {
  return {
    numPartitions: positiveIntegerOption(
      'numPartitions',
      options?.numPartitions,
      Math.max(defaultPartitions, 1),
    ),
    keySerializer: functionOption<KeySerializer<K>>(
      'keySerializer',
      options?.keySerializer,
      defaultKeySerializer,
    ),
  }
}
