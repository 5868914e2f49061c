import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { Rdd } from '../rdd/rdd.ts'
import { createRDD } from '../source/create-rdd.ts'
import { createDirectStream, type DirectStreamOptions } from '../source/direct-stream.ts'
import type { DStream } from '../stream/dstream.ts'
import { incrementalWindowStream } from '../stream/reduce-window.ts'
import type { StreamingContext } from '../stream/streaming-context.ts'
import { resolveWindow } from '../stream/window-spec.ts'
import {
  type PythonStages,
  type Staged,
  type StagedRdd,
  type StagedStream,
  withOperation,
} from './python-plan.ts'
import { type PythonStateOptions, pythonStateStreams } from './python-state.ts'
import { pythonWindowCombiner } from './python-window.ts'
import type { AggregatorSpec, FunctionDigest, PayloadSpec, PyBlob } from './stage.ts'

/** A sub-graph the driver recorded once: an RDD built from stand-ins (`transform_input` nodes). */
export interface GraphTemplate {
  readonly nodes: readonly PlanNode[]
  readonly target: number
}

/**
 * One node of the job graph the Python driver builds (DStream or RDD operations). Parents
 * are node ids; functions are digests of their cloudpickle bytes. Node ids are the
 * driver's; the graph says nothing about Python objects.
 */
export interface PlanNode {
  readonly id: number
  readonly op: string
  readonly parents?: readonly number[]
  readonly fn?: FunctionDigest
  readonly inv_fn?: FunctionDigest
  readonly filter_fn?: FunctionDigest | null
  readonly tags?: readonly [FunctionDigest, FunctionDigest, FunctionDigest]
  readonly aggregator?: AggregatorSpec
  readonly partitions?: number | null
  /** A shuffle's partition function (key to partition index); the portable hash when absent. */
  readonly partition_fn?: FunctionDigest | null
  readonly kafka?: Record<string, unknown>
  readonly key?: PayloadSpec
  readonly value?: PayloadSpec
  readonly ranges?: readonly (readonly [string, number, number, number])[]
  readonly handle?: number
  readonly index?: number
  readonly length_ms?: number
  readonly slide_ms?: number | null
  readonly name?: string | null
  readonly checkpoint_interval?: number | null
  readonly timeout_ms?: number | null
  readonly timeout_batches?: number | null
  readonly initial_pairs?: readonly [string, Buffer][] | null
  readonly initial_rdd?: GraphTemplate | null
  readonly template?: GraphTemplate
}

const narrowOps = new Set(['map', 'flat_map', 'filter', 'map_partitions', 'map_partitions_with_index'])

/** Builds what a graph describes, each node once; what differs between streams and RDDs is abstract. */
abstract class GraphBuilder<R> {
  readonly stages: PythonStages
  readonly #nodes: ReadonlyMap<number, PlanNode>
  readonly #built = new Map<number, Staged<R>>()

  constructor(nodes: readonly PlanNode[], stages: PythonStages) {
    this.#nodes = new Map(nodes.map((node) => [node.id, node]))
    this.stages = stages
  }

  build(id: number): Staged<R> {
    const done = this.#built.get(id)
    if (done) return done
    const node = this.#nodes.get(id)
    if (!node) throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `the job graph has no node ${id}`)
    const parents = (node.parents ?? []).map((parent) => this.build(parent))
    const staged = this.#buildNode(node, parents)
    this.#built.set(id, staged)
    return staged
  }

  #buildNode(node: PlanNode, parents: Staged<R>[]): Staged<R> {
    if (narrowOps.has(node.op)) return withOperation(parents[0]!, [node.op, node.fn!])
    switch (node.op) {
      case 'shuffle':
        return this.shuffle(
          parents[0]!,
          node.aggregator!,
          node.partitions ?? undefined,
          node.partition_fn ?? null,
        )
      case 'union':
        return this.union(parents)
      default:
        return parents.length === 0 ? this.leaf(node) : this.streamOnly(node, parents)
    }
  }

  protected abstract leaf(node: PlanNode): Staged<R>
  protected abstract shuffle(
    staged: Staged<R>,
    aggregator: AggregatorSpec,
    partitions: number | undefined,
    partitioner: FunctionDigest | null,
  ): Staged<R>
  protected abstract union(parts: Staged<R>[]): Staged<R>
  /** Windows, state, transform: operations of streams only. */
  protected abstract streamOnly(node: PlanNode, parents: Staged<R>[]): Staged<R>
}

/** The job's streams, on a StreamingContext. */
export class StreamGraphBuilder extends GraphBuilder<DStream<unknown>> {
  readonly #context: StreamingContext
  readonly #logger: Logger
  /** RDDs of templates (transform's function, initial state): built like an action's RDDs. */
  readonly #rdds: (template: GraphTemplate, inputs: readonly StagedRdd[]) => StagedRdd
  /** The state snapshots of each map_with_state node, for its `state_snapshots` node. */
  readonly #snapshots = new Map<number, StagedStream>()

  constructor(
    nodes: readonly PlanNode[],
    stages: PythonStages,
    context: StreamingContext,
    rdds: (template: GraphTemplate, inputs: readonly StagedRdd[]) => StagedRdd,
    logger: Logger,
  ) {
    super(nodes, stages)
    this.#context = context
    this.#rdds = rdds
    this.#logger = logger
  }

  protected leaf(node: PlanNode): StagedStream {
    if (node.op !== 'kafka_stream') throw unknownNode(node, 'a stream')
    const options = kafkaOptions(node, this.#logger) as unknown as DirectStreamOptions<unknown, unknown>
    const base = createDirectStream(this.#context, options) as DStream<unknown>
    return { base, input: kafkaInput(node), ops: [] }
  }

  protected shuffle(
    staged: StagedStream,
    aggregator: AggregatorSpec,
    partitions: number | undefined,
    partitioner: FunctionDigest | null,
  ): StagedStream {
    return this.stages.shuffleStream(staged, aggregator, partitions, partitioner)
  }

  protected union(parts: StagedStream[]): StagedStream {
    return this.stages.unionStreams(parts)
  }

  protected streamOnly(node: PlanNode, parents: StagedStream[]): StagedStream {
    const parent = parents[0]!
    switch (node.op) {
      case 'window': {
        const blobs = this.stages.materializeStream(parent)
        const base = blobs.window(node.length_ms!, node.slide_ms ?? undefined) as DStream<unknown>
        return { base, input: { kind: 'pickled' }, ops: [] }
      }
      case 'reduce_window':
        return this.#incrementalWindow(node, parent)
      case 'update_state':
        return pythonStateStreams(this.stages, parent, this.#stateOptions(node, 'update_by_key')).snapshots
      case 'map_with_state': {
        const streams = pythonStateStreams(this.stages, parent, this.#stateOptions(node, 'map_with_state'))
        this.#snapshots.set(node.id, streams.snapshots)
        return streams.emitted
      }
      case 'state_snapshots': {
        const snapshots = this.#snapshots.get(node.parents![0]!)
        if (!snapshots) throw unknownNode(node, 'an operation of a map_with_state stream')
        return snapshots
      }
      case 'transform': {
        const input = this.stages.materializeStream(parent)
        const base = input.transform((rdd) => {
          const staged = this.#rdds(node.template!, [{ base: rdd, input: { kind: 'pickled' }, ops: [] }])
          return this.stages.materialize(staged)
        })
        return { base: base as DStream<unknown>, input: { kind: 'pickled' }, ops: [] }
      }
      default:
        throw unknownNode(node, 'a stream')
    }
  }

  #incrementalWindow(node: PlanNode, reduced: StagedStream): StagedStream {
    const blobs = this.stages.materializeStream(reduced) as DStream<PyBlob>
    const spec = resolveWindow(this.#context.batchInterval, node.length_ms, node.slide_ms ?? undefined)
    const combiner = pythonWindowCombiner(this.stages, {
      fn: node.fn!,
      inv: node.inv_fn!,
      filter: node.filter_fn ?? null,
      tags: node.tags!,
    })
    const base = incrementalWindowStream(blobs, spec, combiner, node.partitions ?? undefined)
    return { base: base as DStream<unknown>, input: { kind: 'pickled' }, ops: [] }
  }

  #stateOptions(node: PlanNode, mode: PythonStateOptions['mode']): PythonStateOptions {
    const timeout =
      typeof node.timeout_ms === 'number'
        ? node.timeout_ms
        : typeof node.timeout_batches === 'number'
          ? { batches: node.timeout_batches }
          : null
    return {
      fn: node.fn!,
      mode,
      partitions: node.partitions ?? null,
      name: node.name ?? null,
      checkpointInterval: node.checkpoint_interval ?? null,
      timeout,
      initialState: node.initial_rdd ? this.#rdds(node.initial_rdd, []) : (node.initial_pairs ?? null),
    }
  }
}

/**
 * An RDD for an action or a template: over explicit Kafka ranges (create_rdd), a batch's RDD
 * handed to foreach_batch, or the stand-ins of a template (`transform_input`, by index).
 */
export class RddGraphBuilder extends GraphBuilder<Rdd<unknown>> {
  readonly #handles: (handle: number) => StagedRdd
  readonly #inputs: readonly StagedRdd[]
  readonly #logger: Logger

  constructor(
    nodes: readonly PlanNode[],
    stages: PythonStages,
    handles: (handle: number) => StagedRdd,
    logger: Logger,
    inputs: readonly StagedRdd[] = [],
  ) {
    super(nodes, stages)
    this.#handles = handles
    this.#inputs = inputs
    this.#logger = logger
  }

  protected leaf(node: PlanNode): StagedRdd {
    if (node.op === 'batch_rdd') return this.#handles(node.handle!)
    if (node.op === 'transform_input') {
      const input = this.#inputs[node.index ?? 0]
      if (!input) throw unknownNode(node, 'an input of this template')
      return input
    }
    if (node.op !== 'kafka_rdd') throw unknownNode(node, 'an RDD')
    const ranges = (node.ranges ?? []).map(([topic, partition, from, until]) =>
      OffsetRange.create(topic, partition, from, until),
    )
    const options = kafkaOptions(node, this.#logger) as Parameters<typeof createRDD>[0]
    return { base: createRDD(options, ranges) as Rdd<unknown>, input: kafkaInput(node), ops: [] }
  }

  protected shuffle(
    staged: StagedRdd,
    aggregator: AggregatorSpec,
    partitions: number | undefined,
    partitioner: FunctionDigest | null,
  ): StagedRdd {
    return this.stages.shuffle(staged, aggregator, partitions, partitioner)
  }

  protected union(parts: StagedRdd[]): StagedRdd {
    return this.stages.union(parts)
  }

  protected streamOnly(node: PlanNode): StagedRdd {
    throw unknownNode(node, 'an RDD')
  }
}

function unknownNode(node: PlanNode, what: string): SluiceError {
  return new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    `'${node.op}' (node ${node.id}) is not ${what} operation`,
  )
}

function kafkaInput(node: PlanNode): StagedRdd['input'] {
  return { kind: 'kafka', key: node.key ?? 'bytes', value: node.value ?? 'bytes' }
}

/** The driver sends the TypeScript option names; only what msgpack cannot carry is rebuilt here. */
function kafkaOptions(node: PlanNode, logger: Logger): Record<string, unknown> {
  const options: Record<string, unknown> = { ...(node.kafka ?? {}) }
  if (typeof options.subscribePattern === 'string')
    options.subscribePattern = new RegExp(options.subscribePattern)
  if (Array.isArray(options.assign)) {
    options.assign = (options.assign as [string, number][]).map(([topic, partition]) => ({
      topic,
      partition,
    }))
  }
  // Raw bytes to the workers, which deserialize in parallel ('string' and 'json' in C there):
  // the engine's one thread only reads and moves records.
  options.deserializers = { key: 'buffer', value: 'buffer' }
  options.logger = logger
  return options
}
