import type { JsonValue } from '../checkpoint/json-value.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import type { Rdd } from '../rdd/rdd.ts'
import type { BatchInfo, BatchRef } from './batch.ts'
import { DStream } from './dstream.ts'
import type { StreamingContext } from './streaming-context.ts'

/** What an input stream decided to read in one batch. */
export interface InputPlan {
  readonly ranges: readonly OffsetRange[]
  /** Records that retention deleted before they could be read (failOnDataLoss: false). */
  readonly lostRecords: number
}

/** What an input gets back from the checkpoint when a context restarts. */
export interface InputRecovery {
  /** The ranges of the newest planned batch that belong to this input: plan on from their ends. */
  readonly lastRanges?: readonly OffsetRange[]
  /** The input's own soft state (e.g. the rate estimator) as it last saved it. */
  readonly state?: JsonValue
}

/** Everything a batch of an input is built from: the plan, and a signal that fires on a forced stop. */
export interface InputBatch extends BatchRef {
  readonly plan: InputPlan
  readonly signal: AbortSignal
}

/**
 * A source of batches. The context asks each input for a plan before a batch runs, writes
 * the plans to the checkpoint, and later asks for the RDD of a plan — possibly a plan read
 * back from the checkpoint after a crash, which must yield the same data.
 */
export abstract class InputDStream<T> extends DStream<T> {
  /** Stable name used to file this input's state in the checkpoint. */
  readonly name: string

  constructor(context: StreamingContext, name: string) {
    super(context)
    this.name = name
    context.registerInput(this)
  }

  /** Connects and decides where reading starts. */
  abstract open(recovery: InputRecovery): Promise<void>

  /** Whether a checkpointed range belongs to this input. */
  abstract owns(range: OffsetRange): boolean

  /** Decides the ranges of the next batch. */
  abstract plan(batch: BatchRef): Promise<InputPlan>

  /** The data of a planned batch, read lazily when an action runs. */
  abstract rddOf(batch: InputBatch): Rdd<T>

  /** Soft state to keep in the checkpoint with each batch (e.g. the rate estimator). */
  saveState(): JsonValue | undefined {
    return undefined
  }

  /** Called after a batch committed: feed rate control, commit group offsets. */
  onBatchCompleted(_info: BatchInfo): void {}

  abstract close(): Promise<void>

  protected compute(batch: BatchRef): Rdd<T> | undefined {
    const inputBatch = this.context.inputBatchOf(this, batch)
    return inputBatch === undefined ? undefined : this.rddOf(inputBatch)
  }

  override parents(): readonly DStream<unknown>[] {
    return []
  }
}
