import type { Chunks } from '../rdd/chunks.ts'

/** A user function, known by the digest of its cloudpickle bytes. */
export type FunctionDigest = string

/** How a key or value of a Kafka record reaches Python: as the engine decoded it, or through a Python function. */
export type PayloadSpec = 'bytes' | 'string' | 'json' | { readonly fn: FunctionDigest }

/**
 * How a shuffle combines values by key: by a function, into lists, Spark's combineByKey trio,
 * (cogroup) values tagged with their side into one list per side, or (pairs) not at all:
 * every pair moves as it is (partition_by, sort_by_key).
 */
export type AggregatorSpec =
  | { readonly kind: 'reduce'; readonly fn: FunctionDigest }
  | { readonly kind: 'group' }
  | { readonly kind: 'pairs' }
  | { readonly kind: 'cogroup'; readonly sides: number }
  | {
      readonly kind: 'combine'
      readonly create: FunctionDigest
      readonly merge_value: FunctionDigest
      readonly merge_combiners: FunctionDigest
    }

/** What a stage's input chunks are. */
export type InputSpec =
  | { readonly kind: 'kafka'; readonly key: PayloadSpec; readonly value: PayloadSpec }
  | { readonly kind: 'pickled' }
  /** A reduce partition of a Python shuffle: merged by key before the operations run. */
  | { readonly kind: 'combiners'; readonly merge: AggregatorSpec }
  /** A stateful stream's update: items `[state, values, timing out]` in, `[new state, emitted]` out. */
  | {
      readonly kind: 'state'
      readonly fn: FunctionDigest
      readonly mode: 'update_by_key' | 'map_with_state'
    }
  /** A stateful stream's keys: each `pickle((key, state))`, read as (key, state) pairs. */
  | { readonly kind: 'states' }

/** A fused narrow operation: `map`, `flat_map`, `filter`, `map_partitions`, `map_partitions_with_index`. */
export type OperationSpec = readonly [kind: string, fn: FunctionDigest]

/** What a stage produces. */
export type OutputSpec =
  | { readonly kind: 'pickled' }
  /** A shuffle's map side: by the portable hash of the key, or `partitioner(key) % partitions`. */
  | {
      readonly kind: 'buckets'
      readonly partitions: number
      readonly aggregator: AggregatorSpec
      readonly partitioner: FunctionDigest | null
    }
  /** A stateful stream's map side: each key's values as `[key id, pickle((key, values))]`. */
  | { readonly kind: 'keyed' }
  /** (key, state) pairs as `[key id, pickle((key, state))]`: a stateful stream's initial state. */
  | { readonly kind: 'state_pairs' }
  /** Each chunk's answers as the worker gives them (a state update's results). */
  | { readonly kind: 'raw' }
  | { readonly kind: 'count' }
  | { readonly kind: 'reduce'; readonly fn: FunctionDigest }
  /** An incremental window's keys, cogrouped by side: `[inconsistent, blobs]` at the end. */
  | {
      readonly kind: 'window'
      readonly fn: FunctionDigest
      readonly inv: FunctionDigest
      readonly filter: FunctionDigest | null
    }
  | { readonly kind: 'none' }

/** One stage as a Python worker runs it over a partition. */
export interface StageSpec {
  readonly input: InputSpec
  readonly ops: readonly OperationSpec[]
  readonly output: OutputSpec
}

/**
 * Python records as the engine holds them: a pickled list the engine never looks into,
 * with its length (for counts). The engine moves, windows and shuffles these as they are.
 */
export interface PyBlob {
  readonly count: number
  readonly data: Buffer
}

/** Every function a stage needs, so each reaches a worker before its first task. */
export function digestsOf(spec: StageSpec): FunctionDigest[] {
  const digests: FunctionDigest[] = []
  const payload = (p: PayloadSpec) => {
    if (typeof p === 'object') digests.push(p.fn)
  }
  const aggregator = (a: AggregatorSpec) => {
    if (a.kind === 'reduce') digests.push(a.fn)
    else if (a.kind === 'combine') digests.push(a.create, a.merge_value, a.merge_combiners)
  }
  if (spec.input.kind === 'kafka') {
    payload(spec.input.key)
    payload(spec.input.value)
  } else if (spec.input.kind === 'combiners') aggregator(spec.input.merge)
  else if (spec.input.kind === 'state') digests.push(spec.input.fn)
  for (const [, fn] of spec.ops) digests.push(fn)
  if (spec.output.kind === 'buckets') {
    aggregator(spec.output.aggregator)
    if (spec.output.partitioner !== null) digests.push(spec.output.partitioner)
  } else if (spec.output.kind === 'reduce') digests.push(spec.output.fn)
  else if (spec.output.kind === 'window') {
    digests.push(spec.output.fn, spec.output.inv)
    if (spec.output.filter !== null) digests.push(spec.output.filter)
  }
  return digests
}

export type { Chunks }
