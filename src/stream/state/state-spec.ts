import { isValidStateStreamName } from '../../checkpoint/state-snapshot-store.ts'
import { describeReceived } from '../../core/describe-value.ts'
import { invalidOption } from '../../core/errors.ts'
import {
  customOption,
  eitherOption,
  functionOption,
  numberOption,
  optionsObject,
  type ParsedOptions,
  parseOptions,
  positiveInteger,
  required,
  stringOption,
} from '../../core/options.ts'
import { defaultKeySerializer, type KeySerializer } from '../../rdd/key-serializer.ts'
import { Rdd } from '../../rdd/rdd.ts'
import type { StreamingContext } from '../streaming-context.ts'
import { codecOption, type JsonCodec, resolveCodec } from './state-codec.ts'
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

/** Options of `updateStateByKey`. */
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

function resolveName(context: StreamingContext, name: string | undefined): string {
  const names = namesByContext.get(context) ?? new Set<string>()
  namesByContext.set(context, names)
  const resolved = name ?? `state-${names.size}`
  if (names.has(resolved)) {
    throw invalidOption(
      'name',
      `'${resolved}' is already the name of another stateful stream of this context`,
    )
  }
  names.add(resolved)
  return resolved
}

const initialStateOption = customOption<readonly (readonly [unknown, unknown])[] | Rdd<[unknown, unknown]>>(
  'an iterable of [key, state] pairs or an Rdd',
  (value, path) => {
    if (value instanceof Rdd) return value as Rdd<[unknown, unknown]>
    if (value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw invalidOption(
        path,
        `must be an iterable of [key, state] pairs or an Rdd, got ${describeReceived(value)}`,
      )
    }
    // Copied now, so later changes to the caller's collection cannot change a recomputation.
    const pairs = [...(value as Iterable<unknown>)]
    pairs.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw invalidOption(`${path}[${i}]`, `must be a [key, state] pair, got ${describeReceived(pair)}`)
      }
      if (pair[1] === undefined) throw invalidOption(`${path}[${i}]`, 'has an undefined state')
    })
    return pairs as [unknown, unknown][]
  },
)

const timeoutOption = eitherOption<number, { batches: number }>(
  (value) => typeof value === 'number',
  numberOption({ above: 0, unit: 'milliseconds' }),
  optionsObject({ batches: required(positiveInteger) }),
)

/** The schema fields of StatefulOptions: every stateful operation takes these. */
const statefulOptionFields = {
  name: stringOption({
    expected: "1 to 100 letters, digits, '.', '_' or '-', not starting with '.'",
    problem: (name) =>
      isValidStateStreamName(name)
        ? undefined
        : `must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.', got ${JSON.stringify(name)}`,
  }),
  numPartitions: positiveInteger,
  keySerializer: functionOption<KeySerializer<unknown>>(),
  initialState: initialStateOption,
  checkpointInterval: positiveInteger,
  keyCodec: codecOption,
  stateCodec: codecOption,
}

const updateStateOptions = optionsObject(statefulOptionFields)

const stateSpecOptions = optionsObject({
  ...statefulOptionFields,
  fn: required(functionOption<MappingFunction<unknown, unknown, unknown, unknown>>()),
  timeout: timeoutOption,
})

function settingsOf<K, S>(
  context: StreamingContext,
  given: ParsedOptions<typeof statefulOptionFields>,
  timeout: StateTimeout | undefined,
): StateSettings<K, S> {
  return {
    numPartitions: given.numPartitions,
    keySerializer: (given.keySerializer as KeySerializer<K> | undefined) ?? defaultKeySerializer,
    initialState: given.initialState as StateSettings<K, S>['initialState'],
    checkpointInterval: given.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL,
    keyCodec: resolveCodec('keyCodec', given.keyCodec as JsonCodec<K> | undefined),
    stateCodec: resolveCodec('stateCodec', given.stateCodec as JsonCodec<S> | undefined),
    timeout,
    // Last: a name is only taken by an operation whose other options are valid.
    name: resolveName(context, given.name),
  }
}

/** Checks `updateStateByKey`'s options when it is declared, so a bad one never reaches a batch. */
export function resolveUpdateStateSettings<K, S>(
  context: StreamingContext,
  options: UpdateStateOptions<K, S> | undefined,
): StateSettings<K, S> {
  if (options !== null && typeof options === 'object' && 'timeout' in options) {
    throw invalidOption(
      'timeout',
      'is not an option of updateStateByKey: return undefined from its function to remove a key, or use mapWithState',
    )
  }
  return settingsOf(context, parseOptions(updateStateOptions, options ?? {}, 'updateStateByKey'), undefined)
}

const statefulOptions = optionsObject({ ...statefulOptionFields, timeout: timeoutOption })

function resolvedTimeout(timeout: number | { batches: number } | undefined): StateTimeout | undefined {
  if (timeout === undefined) return undefined
  return typeof timeout === 'number' ? { ms: timeout } : { batches: timeout.batches }
}

/**
 * Checks the options of a stateful stream whose update is not a TypeScript function (the
 * Python API's): every StatefulOptions field and mapWithState's `timeout`. `operation` names
 * it in messages.
 */
export function resolveStatefulSettings<K, S>(
  context: StreamingContext,
  options: StatefulOptions<K, S> & { readonly timeout?: StateSpec<K, unknown, S, unknown>['timeout'] },
  operation: string,
): StateSettings<K, S> {
  const { timeout, ...given } = parseOptions(statefulOptions, options, operation)
  return settingsOf(context, given, resolvedTimeout(timeout))
}

/** Checks a `mapWithState` spec when it is declared; returns its function and settings. */
export function resolveStateSpec<K, V, S, U>(
  context: StreamingContext,
  spec: StateSpec<K, V, S, U>,
): { fn: MappingFunction<K, V, S, U>; settings: StateSettings<K, S> } {
  const { fn, timeout, ...given } = parseOptions(stateSpecOptions, spec, 'mapWithState')
  return {
    fn: fn as MappingFunction<K, V, S, U>,
    settings: settingsOf(context, given, resolvedTimeout(timeout)),
  }
}
