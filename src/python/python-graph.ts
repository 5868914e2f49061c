import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { Rdd } from '../rdd/rdd.ts'
import { createRDD } from '../source/create-rdd.ts'
import type { Deserializer } from '../source/deserializers.ts'
import { createDirectStream, type DirectStreamOptions } from '../source/direct-stream.ts'
import type { DStream } from '../stream/dstream.ts'
import type { StreamingContext } from '../stream/streaming-context.ts'
import {
  type PythonStages,
  type Staged,
  type StagedRdd,
  type StagedStream,
  withOperation,
} from './python-plan.ts'
import { pythonStateStream } from './python-state.ts'
import type { AggregatorSpec, PayloadSpec } from './stage.ts'

/**
 * One node of the job graph the Python driver builds (DStream or RDD operations). Parents
 * are node ids; functions are digests of their cloudpickle bytes. Node ids are the
 * driver's; the graph says nothing about Python objects.
 */
export interface PlanNode {
  readonly id: number
  readonly op: string
  readonly parents?: readonly number[]
  readonly fn?: string
  readonly aggregator?: AggregatorSpec
  readonly partitions?: number | null
  readonly kafka?: Record<string, unknown>
  readonly key?: PayloadSpec
  readonly value?: PayloadSpec
  readonly ranges?: readonly (readonly [string, number, number, number])[]
  readonly handle?: number
  readonly length_ms?: number
  readonly slide_ms?: number | null
  readonly name?: string | null
  readonly checkpoint_interval?: number | null
}

const narrowOps = new Set(['map', 'flat_map', 'filter', 'map_partition'])

/** Builds what a graph describes, each node once; `leaf` and `window` are where streams and RDDs differ. */
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
    if (node.op === 'shuffle')
      return this.shuffle(parents[0]!, node.aggregator!, node.partitions ?? undefined)
    if (node.op === 'union') return this.union(parents)
    if (node.op === 'window') return this.window(parents[0]!, node)
    if (node.op === 'update_state') return this.updateState(parents[0]!, node)
    return this.leaf(node)
  }

  protected abstract leaf(node: PlanNode): Staged<R>
  protected abstract shuffle(
    staged: Staged<R>,
    aggregator: AggregatorSpec,
    partitions: number | undefined,
  ): Staged<R>
  protected abstract union(parts: Staged<R>[]): Staged<R>
  protected abstract window(staged: Staged<R>, node: PlanNode): Staged<R>
  protected abstract updateState(staged: Staged<R>, node: PlanNode): Staged<R>
}

/** The job's streams, on a StreamingContext. */
export class StreamGraphBuilder extends GraphBuilder<DStream<unknown>> {
  readonly #context: StreamingContext
  readonly #logger: Logger

  constructor(nodes: readonly PlanNode[], stages: PythonStages, context: StreamingContext, logger: Logger) {
    super(nodes, stages)
    this.#context = context
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
  ): StagedStream {
    return this.stages.shuffleStream(staged, aggregator, partitions)
  }

  protected union(parts: StagedStream[]): StagedStream {
    return this.stages.unionStreams(parts)
  }

  protected window(staged: StagedStream, node: PlanNode): StagedStream {
    const blobs = this.stages.materializeStream(staged)
    const base = blobs.window(node.length_ms!, node.slide_ms ?? undefined) as DStream<unknown>
    return { base, input: { kind: 'pickled' }, ops: [] }
  }

  protected updateState(staged: StagedStream, node: PlanNode): StagedStream {
    return pythonStateStream(this.stages, staged, {
      fn: node.fn!,
      partitions: node.partitions ?? 4,
      name: node.name ?? null,
      checkpointInterval: node.checkpoint_interval ?? null,
    })
  }
}

/** An RDD for an action: over explicit Kafka ranges (create_rdd) or a batch's RDD handed to foreach_batch. */
export class RddGraphBuilder extends GraphBuilder<Rdd<unknown>> {
  readonly #handles: (handle: number) => StagedRdd
  readonly #logger: Logger

  constructor(
    nodes: readonly PlanNode[],
    stages: PythonStages,
    handles: (handle: number) => StagedRdd,
    logger: Logger,
  ) {
    super(nodes, stages)
    this.#handles = handles
    this.#logger = logger
  }

  protected leaf(node: PlanNode): StagedRdd {
    if (node.op === 'batch_rdd') return this.#handles(node.handle!)
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
  ): StagedRdd {
    return this.stages.shuffle(staged, aggregator, partitions)
  }

  protected union(parts: StagedRdd[]): StagedRdd {
    return this.stages.union(parts)
  }

  protected window(_staged: StagedRdd, node: PlanNode): StagedRdd {
    throw unknownNode(node, 'an RDD')
  }

  protected updateState(_staged: StagedRdd, node: PlanNode): StagedRdd {
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

/** How the engine decodes a payload before Python sees it: text and JSON here, the rest as bytes. */
function engineDeserializer(spec: PayloadSpec | undefined): Deserializer<unknown> {
  return spec === 'string' || spec === 'json' ? spec : 'buffer'
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
  options.deserializers = { key: engineDeserializer(node.key), value: engineDeserializer(node.value) }
  options.logger = logger
  return options
}
