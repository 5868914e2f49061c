import { isValidStateStreamName } from '../../checkpoint/state-snapshot-store.ts'
import { describeValue } from '../../core/describe-value.ts'
import { invalidOption } from '../../core/errors.ts'
import { defaultKeySerializer, type KeySerializer } from '../../rdd/key-serializer.ts'
import { Rdd } from '../../rdd/rdd.ts'
import type { StreamingContext } from '../streaming-context.ts'
import { type JsonCodec, resolveCodec } from './state-codec.ts'
import type { MappingFunction } from './state-update.ts'

/** Idle time after which a key times out: milliseconds of batch time, or a number of batches. */
export type StateTimeout = { readonly batches: number } | { readonly ms: number }

/** Options of every stateful operation. */
export interface StatefulOptions<K, S> {
  /**
   * Names the stream's snapshots in the checkpoint (`<checkpoint>/state/<name>/`). Give
   * every stateful stream a name and keep it when the job's code changes; the default,
   * `state-<n>` with n counting the context's stateful operations in the order they are
   * defined, changes when one is added before it.
   */
  readonly name?: string
  /** Partitions the state is spread over. Default: the parent's partition count at the first batch. */
  readonly numPartitions?: number
  /** How object keys compare (as in shuffles). Default `defaultKeySerializer`. */
  readonly keySerializer?: KeySerializer<K>
  /** The state before batch 0: pairs, or an RDD of pairs (read once, at batch 0). A key given twice keeps its last state. */
  readonly initialState?: Iterable<readonly [K, S]> | Rdd<[K, S]>
  /**
   * With a checkpoint directory, the state is written to it after every this many batches
   * (after batch N when (N + 1) % checkpointInterval === 0). Recovery loads the newest
   * snapshot and recomputes the batches after it, so a smaller interval means faster
   * restarts and more writes. Default 10.
   */
  readonly checkpointInterval?: number
  /** Turns keys into plain JSON for snapshots and back; needed for keys plain JSON cannot hold. */
  readonly keyCodec?: JsonCodec<K>
  /** Turns states into plain JSON for snapshots and back; needed for states plain JSON cannot hold. */
  readonly stateCodec?: JsonCodec<S>
}

export type UpdateStateOptions<K, S> = StatefulOptions<K, S>

/** What `mapWithState` does (Spark's StateSpec). */
export interface StateSpec<K, V, S, U> extends StatefulOptions<K, S> {
  /**
   * Called once per record of the batch with the key, the value and the key's State; its
   * return value is emitted unless it is undefined. With a timeout, called once more for a
   * key idle too long, with value undefined and `state.isTimingOut()` true.
   */
  readonly fn: MappingFunction<K, V, S, U>
  /**
   * A key that receives no data for longer than this gets one last call and is removed:
   * milliseconds of batch time (the recorded batch times, so the same after a restart), or
   * `{ batches: n }` (timed out in the batch n + 1 batches after its last data). Default: none.
   */
  readonly timeout?: number | { readonly batches: number }
}

export const DEFAULT_CHECKPOINT_INTERVAL = 10

export interface StateSettings<K, S> {
  readonly name: string
  readonly numPartitions: number | undefined
  readonly keySerializer: KeySerializer<K>
  readonly initialState: readonly (readonly [K, S])[] | Rdd<[K, S]> | undefined
  readonly checkpointInterval: number
  readonly keyCodec: Required<JsonCodec<K>>
  readonly stateCodec: Required<JsonCodec<S>>
  readonly timeout: StateTimeout | undefined
}

/** Names given so far per context: a name must be unique within its job. */
const namesByContext = new WeakMap<StreamingContext, Set<string>>()

function positiveInteger(option: string, value: unknown, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidOption(option, `must be a positive integer, got ${describeValue(value)}`)
  }
  return value
}

function resolveName(context: StreamingContext, name: unknown): string {
  const names = namesByContext.get(context) ?? new Set<string>()
  namesByContext.set(context, names)
  let resolved: string
  if (name === undefined) {
    resolved = `state-${names.size}`
  } else if (typeof name !== 'string' || !isValidStateStreamName(name)) {
    throw invalidOption(
      'name',
      `must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.', got ${describeValue(name)}`,
    )
  } else {
    resolved = name
  }
  if (names.has(resolved)) {
    throw invalidOption(
      'name',
      `'${resolved}' is already the name of another stateful stream of this context`,
    )
  }
  names.add(resolved)
  return resolved
}

function resolveInitialState<K, S>(value: unknown): readonly (readonly [K, S])[] | Rdd<[K, S]> | undefined {
  if (value === undefined || value instanceof Rdd) return value as Rdd<[K, S]> | undefined
  if (value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw invalidOption(
      'initialState',
      `must be an iterable of [key, state] pairs or an Rdd, got ${describeValue(value)}`,
    )
  }
  // Copied now, so later changes to the caller's collection cannot change a recomputation.
  const pairs = [...(value as Iterable<unknown>)]
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw invalidOption(`initialState[${i}]`, `must be a [key, state] pair, got ${describeValue(pair)}`)
    }
    if (pair[1] === undefined) throw invalidOption(`initialState[${i}]`, 'has an undefined state')
  })
  return pairs as (readonly [K, S])[]
}

function resolveTimeout(value: unknown): StateTimeout | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) {
      throw invalidOption(
        'timeout',
        `must be a positive number of milliseconds or { batches: n }, got ${value}`,
      )
    }
    return { ms: value }
  }
  if (value !== null && typeof value === 'object' && 'batches' in value) {
    const batches = positiveInteger('timeout.batches', (value as { batches: unknown }).batches, undefined)
    return { batches: batches! }
  }
  throw invalidOption(
    'timeout',
    `must be a positive number of milliseconds or { batches: n }, got ${describeValue(value)}`,
  )
}

/** Checks a stateful operation's options when it is declared, so a bad one never reaches a batch. */
export function resolveStateSettings<K, S>(
  context: StreamingContext,
  options: StatefulOptions<K, S> & { readonly timeout?: unknown },
): StateSettings<K, S> {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'must be an object')
  const keySerializer = options.keySerializer ?? defaultKeySerializer
  if (typeof keySerializer !== 'function') {
    throw invalidOption('keySerializer', `must be a function, got ${describeValue(keySerializer)}`)
  }
  const settings: StateSettings<K, S> = {
    name: '',
    numPartitions: positiveInteger('numPartitions', options.numPartitions, undefined),
    keySerializer,
    initialState: resolveInitialState<K, S>(options.initialState),
    checkpointInterval: positiveInteger(
      'checkpointInterval',
      options.checkpointInterval,
      DEFAULT_CHECKPOINT_INTERVAL,
    )!,
    keyCodec: resolveCodec('keyCodec', options.keyCodec),
    stateCodec: resolveCodec('stateCodec', options.stateCodec),
    timeout: resolveTimeout(options.timeout),
  }
  // Last: a name is only taken by an operation whose other options are valid.
  return { ...settings, name: resolveName(context, options.name) }
}
