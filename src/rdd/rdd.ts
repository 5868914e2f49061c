import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import {
  functionArgument,
  functionOption,
  optionsObject,
  parseOptions,
  signalOption,
} from '../core/options.ts'
import { cogroupAggregator, groupAggregator, reduceAggregator, type Sided } from './aggregator.ts'
import { type ChunkedPartitionFunction, type Chunks, recordsOf } from './chunks.ts'
import { type ElementOp, type PipelineStep, pipelineStep } from './element-pipeline.ts'
import type { JobProgressListener } from './job-progress.ts'
import { defaultKeySerializer, type KeySerializer, serializedKeyOf } from './key-serializer.ts'
import { KeyedMap } from './keyed-map.ts'
import type { LineageStep } from './lineage-step.ts'
import { chunkedPartitionFunction, mapPartitionsStep, type PartitionFunction } from './map-partitions.ts'
import { shuffleStep } from './shuffle.ts'
import { resolveShuffleOptions, type ShuffleOptions } from './shuffle-options.ts'
import { take } from './take.ts'
import type { TaskContext } from './task-context.ts'
import { defaultTaskRunner, TaskRunner } from './task-runner.ts'
import { unionStep } from './union.ts'

export interface RddInit {
  /** Runs this RDD's jobs; derived RDDs inherit it. Default `defaultTaskRunner`. */
  readonly runner?: TaskRunner
  /** Parent RDDs, so the runner can find shuffle stages in the lineage before a job starts. */
  readonly dependencies?: readonly Rdd<unknown>[]
}

/** Options of an RDD action (`collect`, `count`, `take`, `foreach`...). */
export interface ActionOptions {
  /** Cancels the action: its tasks see their signal abort and the action rejects with the reason. */
  readonly signal?: AbortSignal
  /**
   * Hears how far the action has got: tasks done of those known (shuffle stages included)
   * and records read from Kafka; last with `done: true`. Called often (every task, and at
   * most every 100 ms while records are read); keep it cheap. A listener that throws is
   * logged once and dropped; the action goes on.
   */
  readonly onProgress?: JobProgressListener
}

/** Options of `countByValue`. */
export interface CountByValueOptions<T> extends ActionOptions {
  /** How object values are compared; default `defaultKeySerializer`. */
  readonly keySerializer?: KeySerializer<T>
}

/** A function over one chunk of a partition's records (read-only), with the task's context. */
export type ChunkFunction<T, R> = (chunk: readonly T[], ctx: TaskContext) => R

let nextRddId = 1

const countByValueOptions = optionsObject({
  signal: signalOption,
  onProgress: functionOption<JobProgressListener>(),
  keySerializer: functionOption<KeySerializer<unknown>>(),
})

/**
 * A lazy, partitioned dataset: a node of lineage that knows how to compute each of its
 * partitions. Operations build new nodes and run nothing; actions run a job through the
 * node's `runner`. Subclasses (a Kafka RDD, a test source) implement `numPartitions` and
 * `computeChunks`, and may override `count`, `isEmpty` and `describePartition`.
 */
export abstract class Rdd<T> {
  /** Unique node id, from a process-wide counter. */
  readonly id: number
  readonly runner: TaskRunner
  readonly dependencies: readonly Rdd<unknown>[]
  abstract readonly numPartitions: number

  constructor(init: RddInit = {}) {
    if (init.runner !== undefined && !(init.runner instanceof TaskRunner)) {
      throw invalidOption('runner', `must be a TaskRunner, got ${describeValue(init.runner)}`)
    }
    this.id = nextRddId++
    this.runner = init.runner ?? defaultTaskRunner
    this.dependencies = init.dependencies ?? []
  }

  /**
   * The records of one partition as a stream of chunks (arrays of records). Called once per
   * task attempt; a retry calls it again and must get the same records.
   */
  abstract computeChunks(partition: number, task: TaskContext): Chunks<T>

  /** How errors name a partition; a Kafka RDD names topic, partition and offsets. */
  describePartition(partition: number): string {
    return `partition ${partition}`
  }

  /**
   * Runs every shuffle map stage in the lineage that has not run yet. The runner calls it
   * before a job takes any task slot; it finds stages through `dependencies`.
   */
  async prepareStages(signal?: AbortSignal): Promise<void> {
    for (const parent of this.dependencies) await parent.prepareStages(signal)
  }

  toString(): string {
    return `${this.constructor.name}[${this.id}]`
  }

  // ---- narrow operations: lazy, one output partition per input partition ----

  /** The chunk-level primitive every narrow operation is built on. */
  mapPartitionChunks<U>(fn: ChunkedPartitionFunction<T, U>): Rdd<U> {
    return this.#derive(mapPartitionsStep(this, functionArgument('fn', fn)))
  }

  /**
   * Transforms each partition as a whole, reading its records one by one through an async
   * iterator: flexible (the function may await anything), and the slow path, since every
   * record costs an await. `mapChunks` is the synchronous form that works a chunk at a time.
   */
  mapPartitions<U>(fn: PartitionFunction<T, U>): Rdd<U> {
    return this.mapPartitionChunks(chunkedPartitionFunction(functionArgument('fn', fn)))
  }

  /**
   * Transforms each chunk of a partition (an array of records, read-only) into an array of
   * output records, synchronously: the fast form of `mapPartitions`. One call per chunk and
   * no await per record, so per-partition state (a local Map, a counter, a batch of rows)
   * costs a plain loop. Empty outputs are dropped; chunk sizes vary (up to a few thousand
   * records) and carry no meaning. A returned promise is not awaited: use `mapPartitions`
   * for asynchronous work per record.
   */
  mapChunks<U>(fn: ChunkFunction<T, readonly U[]>): Rdd<U> {
    const perChunk = functionArgument<ChunkFunction<T, readonly U[]>>('fn', fn)
    return this.mapPartitionChunks(async function* mapped(chunks, ctx) {
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue
        const out = perChunk(chunk, ctx)
        if (!Array.isArray(out)) throw notAnArray('mapChunks', out)
        if (out.length > 0) yield out
      }
    })
  }

  map<U>(fn: (value: T) => U): Rdd<U> {
    return this.#pipe({ kind: 'map', fn: functionArgument('fn', fn) as ElementOp['fn'] })
  }

  flatMap<U>(fn: (value: T) => Iterable<U>): Rdd<U> {
    return this.#pipe({
      kind: 'flatMap',
      fn: functionArgument('fn', fn) as (value: never) => Iterable<unknown>,
    })
  }

  filter<S extends T>(predicate: (value: T) => value is S): Rdd<S>
  filter(predicate: (value: T) => boolean): Rdd<T>
  filter(predicate: (value: T) => boolean): Rdd<T> {
    return this.#pipe({
      kind: 'filter',
      fn: functionArgument('predicate', predicate) as (value: never) => boolean,
    })
  }

  /** Where a narrow op fused into this RDD would start from; only pipeline nodes have one. */
  protected pipeline(): PipelineStep<T>['pipeline'] | undefined {
    return undefined
  }

  #pipe<U>(op: ElementOp): Rdd<U> {
    const fusable = this.pipeline()
    return this.#derive(
      fusable
        ? pipelineStep<U>(fusable.parent, [...fusable.ops, op])
        : pipelineStep<U>(this as Rdd<unknown>, [op]),
    )
  }

  /** This RDD's partitions followed by each other's, in argument order. Nothing is moved or deduplicated. */
  union(...others: Rdd<T>[]): Rdd<T> {
    for (const other of others) {
      if (!(other instanceof Rdd))
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'union() takes RDDs only')
    }
    return this.#derive(unionStep([this, ...others]))
  }

  mapValues<K, V, U>(this: Rdd<[K, V]>, fn: (value: V) => U): Rdd<[K, U]> {
    const mapValue = functionArgument<(value: V) => U>('fn', fn)
    return this.map(([key, value]): [K, U] => [key, mapValue(value)])
  }

  keys<K, V>(this: Rdd<[K, V]>): Rdd<K> {
    return this.map((pair) => pair[0])
  }

  values<K, V>(this: Rdd<[K, V]>): Rdd<V> {
    return this.map((pair) => pair[1])
  }

  // ---- key-value operations: a hash shuffle, keys compared by value ----

  /** Merges the values of each key with `fn` (associative, commutative, returning a new value). */
  reduceByKey<K, V>(this: Rdd<[K, V]>, fn: (a: V, b: V) => V, options?: ShuffleOptions<K>): Rdd<[K, V]> {
    const reduce = functionArgument<(a: V, b: V) => V>('fn', fn)
    const spec = resolveShuffleOptions(options, this.numPartitions, 'reduceByKey')
    return this.#derive(shuffleStep(this, spec, reduceAggregator(reduce), this.pipeline()))
  }

  /** All values of each key, in partition order then record order. */
  groupByKey<K, V>(this: Rdd<[K, V]>, options?: ShuffleOptions<K>): Rdd<[K, V[]]> {
    const spec = resolveShuffleOptions(options, this.numPartitions, 'groupByKey')
    return this.#derive(shuffleStep(this, spec, groupAggregator<V>(), this.pipeline()))
  }

  /** For every key in either RDD, its values in this one and in `other`. */
  cogroup<K, V, W>(this: Rdd<[K, V]>, other: Rdd<[K, W]>, options?: ShuffleOptions<K>): Rdd<[K, [V[], W[]]]> {
    const spec = resolveShuffleOptions(options, Math.max(this.numPartitions, other.numPartitions), 'cogroup')
    const left = this.mapValues((value): Sided<V, W> => ({ side: 'left', value }))
    const right = other.mapValues((value): Sided<V, W> => ({ side: 'right', value }))
    const sided = left.union(right)
    return sided.#derive(shuffleStep(sided, spec, cogroupAggregator<V, W>()))
  }

  /** Inner join: one output pair per matching (this value, other value). */
  join<K, V, W>(this: Rdd<[K, V]>, other: Rdd<[K, W]>, options?: ShuffleOptions<K>): Rdd<[K, [V, W]]> {
    return this.cogroup(other, options).flatMap(([key, [lefts, rights]]) => {
      const out: [K, [V, W]][] = []
      for (const left of lefts) for (const right of rights) out.push([key, [left, right]])
      return out
    })
  }

  /** Like `join`, but keys missing from `other` keep their values, paired with undefined. */
  leftOuterJoin<K, V, W>(
    this: Rdd<[K, V]>,
    other: Rdd<[K, W]>,
    options?: ShuffleOptions<K>,
  ): Rdd<[K, [V, W | undefined]]> {
    return this.cogroup(other, options).flatMap(([key, [lefts, rights]]) => {
      const out: [K, [V, W | undefined]][] = []
      for (const left of lefts) {
        if (rights.length === 0) out.push([key, [left, undefined]])
        for (const right of rights) out.push([key, [left, right]])
      }
      return out
    })
  }

  // ---- actions: each runs one or more jobs through `runner` ----

  /** Every record, in partition order then record order. */
  async collect(options: ActionOptions = {}): Promise<T[]> {
    const parts = await this.#runAll(collectChunks, options)
    const all: T[] = []
    for (const part of parts) for (let i = 0; i < part.length; i++) all.push(part[i]!)
    return all
  }

  /** Overridable: a subclass that knows its size (Kafka offsets) can answer without reading. */
  async count(options: ActionOptions = {}): Promise<number> {
    const counts = await this.#runAll(countChunks, options)
    return counts.reduce((sum, count) => sum + count, 0)
  }

  /** The first `n` records in partition order, reading only the partitions and chunks needed. */
  take(n: number, options: ActionOptions = {}): Promise<T[]> {
    return take(this, n, options)
  }

  async first(options: ActionOptions = {}): Promise<T> {
    const taken = await this.take(1, options)
    if (taken.length === 0) throw emptyRdd('first()', this)
    return taken[0] as T
  }

  /** Overridable, like `count`. */
  async isEmpty(options: ActionOptions = {}): Promise<boolean> {
    return this.numPartitions === 0 || (await this.take(1, options)).length === 0
  }

  /** Calls `fn` once per partition with its records one by one (an await each: see `foreachChunk`). */
  async foreachPartition(
    fn: (records: AsyncIterable<T>, ctx: TaskContext) => Promise<void> | void,
    options: ActionOptions = {},
  ): Promise<void> {
    const perPartition = functionArgument<typeof fn>('fn', fn)
    await this.#runAll((chunks, ctx) => perPartition(recordsOf(chunks), ctx), options)
  }

  /**
   * Calls `fn` on every chunk of records (read-only arrays, never empty): the fast form of
   * `foreachPartition` and `foreach`, with no await per record. A returned promise is awaited
   * before the task's next chunk, so a chunk can be written out as one request.
   */
  async foreachChunk(fn: ChunkFunction<T, unknown>, options: ActionOptions = {}): Promise<void> {
    const each = functionArgument<ChunkFunction<T, unknown>>('fn', fn)
    await this.#runAll(async (chunks, ctx) => {
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue
        const result = each(chunk, ctx)
        if (isPromiseLike(result)) await result
      }
    }, options)
  }

  /**
   * Calls `fn` on every record; a returned promise is awaited before the next record. The
   * per-record slow path: `foreachChunk` does the same work a chunk at a time.
   */
  async foreach(fn: (value: T) => unknown, options: ActionOptions = {}): Promise<void> {
    const each = functionArgument<typeof fn>('fn', fn)
    await this.#runAll(async (chunks) => {
      for await (const chunk of chunks) {
        for (let i = 0; i < chunk.length; i++) {
          const result = each(chunk[i]!)
          if (isPromiseLike(result)) await result
        }
      }
    }, options)
  }

  /** Combines all records with `fn` (associative, commutative); rejects on an empty RDD. */
  async reduce(fn: (a: T, b: T) => T, options: ActionOptions = {}): Promise<T> {
    const combine = functionArgument<typeof fn>('fn', fn)
    const partials = await this.#runAll(async (chunks) => {
      let found = false
      let acc: T | undefined
      for await (const chunk of chunks) {
        for (let i = 0; i < chunk.length; i++) {
          acc = found ? combine(acc as T, chunk[i]!) : chunk[i]!
          found = true
        }
      }
      return { found, acc }
    }, options)
    let found = false
    let result: T | undefined
    for (const partial of partials) {
      if (!partial.found) continue
      result = found ? combine(result as T, partial.acc as T) : (partial.acc as T)
      found = true
    }
    if (!found) throw emptyRdd('reduce()', this)
    return result as T
  }

  /**
   * How many times each distinct value occurs, in first-seen order. Values compare by value
   * (object values through the key serializer); each map key is the first-seen value.
   */
  async countByValue(options: CountByValueOptions<T> = {}): Promise<Map<T, number>> {
    const { keySerializer, ...actionOptions } = parseOptions(countByValueOptions, options, 'countByValue')
    const serializer = keySerializer ?? defaultKeySerializer
    const parts = await this.#runAll(async (chunks) => {
      const counts = new KeyedMap<T, number>()
      for await (const chunk of chunks) {
        for (let i = 0; i < chunk.length; i++) {
          const value = chunk[i]!
          const serialized = serializedKeyOf(value, serializer)
          const entry = counts.get(value, serialized)
          if (entry === undefined) counts.add(value, serialized, 1)
          else entry.value++
        }
      }
      return counts.entries()
    }, actionOptions)
    const merged = new KeyedMap<T, number>()
    for (const part of parts) {
      for (const { key, serialized, value } of part) {
        const entry = merged.get(key, serialized)
        if (entry === undefined) merged.add(key, serialized, value)
        else entry.value += value
      }
    }
    return new Map(merged.entries().map(({ key, value }) => [key, value]))
  }

  #runAll<R>(
    task: (chunks: Chunks<T>, ctx: TaskContext) => Promise<R> | R,
    options: ActionOptions,
  ): Promise<R[]> {
    const partitions = Array.from({ length: this.numPartitions }, (_, i) => i)
    return this.runner.runJob(this, partitions, task, options)
  }

  #derive<U>(step: LineageStep<U>): Rdd<U> {
    return new DerivedRdd(this.runner, step)
  }
}

/** The node every operation creates: what it computes comes from its lineage step. */
class DerivedRdd<T> extends Rdd<T> {
  readonly numPartitions: number
  readonly #step: LineageStep<T>

  constructor(runner: TaskRunner, step: LineageStep<T>) {
    super({ runner, dependencies: step.parents })
    this.numPartitions = step.numPartitions
    this.#step = step
  }

  computeChunks(partition: number, ctx: TaskContext): Chunks<T> {
    return this.#step.computeChunks(partition, ctx)
  }

  override describePartition(partition: number): string {
    return this.#step.describePartition?.(partition) ?? super.describePartition(partition)
  }

  override prepareStages(signal?: AbortSignal): Promise<void> {
    return this.#step.prepareStages?.(signal) ?? super.prepareStages(signal)
  }

  protected override pipeline(): PipelineStep<T>['pipeline'] | undefined {
    return (this.#step as Partial<PipelineStep<T>>).pipeline
  }

  override toString(): string {
    return `${this.#step.name}[${this.id}]`
  }
}

async function collectChunks<T>(chunks: Chunks<T>): Promise<T[]> {
  const out: T[] = []
  for await (const chunk of chunks) for (let i = 0; i < chunk.length; i++) out.push(chunk[i]!)
  return out
}

async function countChunks(chunks: Chunks<unknown>): Promise<number> {
  let count = 0
  for await (const chunk of chunks) count += chunk.length
  return count
}

function notAnArray(operation: string, value: unknown): SluiceError {
  return new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    `the function given to ${operation}() must return an array of records, got ${describeValue(value)}`,
  )
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
}

function emptyRdd(action: string, rdd: Rdd<unknown>): SluiceError {
  return new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    `${action} needs at least one record, but ${rdd} is empty`,
    {
      details: { rdd: String(rdd) },
    },
  )
}
