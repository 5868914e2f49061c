import type { Chunks } from '../rdd/chunks.ts'

/** A user function, known by the digest of its cloudpickle bytes. */
export type FunctionDigest = string

/** How a key or value of a Kafka record reaches Python: as the engine decoded it, or through a Python function. */
export type PayloadSpec = 'bytes' | 'string' | 'json' | { readonly fn: FunctionDigest }

/** How a reduce-side task combines values: by a function, into lists, or Spark's combineByKey trio. */
export type AggregatorSpec =
  | { readonly kind: 'reduce'; readonly fn: FunctionDigest }
  | { readonly kind: 'group' }
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
  /** update_state_by_key: one bucket's state and new values per chunk, its new state out. */
  | { readonly kind: 'state'; readonly fn: FunctionDigest }
  /** Buckets of per-key state (pickled dicts), read as (key, state) pairs. */
  | { readonly kind: 'states' }

/** A fused narrow operation: `map`, `flat_map`, `filter` or `map_partition`. */
export type OperationSpec = readonly [kind: string, fn: FunctionDigest]

/** What a stage produces. */
export type OutputSpec =
  | { readonly kind: 'pickled' }
  | { readonly kind: 'buckets'; readonly partitions: number; readonly aggregator: AggregatorSpec }
  | { readonly kind: 'count' }
  | { readonly kind: 'reduce'; readonly fn: FunctionDigest }
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
  if (spec.output.kind === 'buckets') aggregator(spec.output.aggregator)
  else if (spec.output.kind === 'reduce') digests.push(spec.output.fn)
  return digests
}

export type { Chunks }
