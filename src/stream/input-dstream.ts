import type { JsonValue } from '../checkpoint/json-value.ts'
import type { DeadLetters } from '../kafka/dead-letters.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { Rdd } from '../rdd/rdd.ts'
import type { BatchInfo, BatchRef } from './batch.ts'
import type { ReadCounters, SourceProgress } from './batch-progress.ts'
import { DStream } from './dstream.ts'
import type { SourcePosition } from './listener.ts'
import type { StreamingContext } from './streaming-context.ts'

/** What an input gets back from the checkpoint when a context starts. */
export interface InputRecovery {
  /**
   * The input's plan in the newest logged batch (committed or pending), when that batch has
   * one for it: the next plan starts where this one ends. Undefined on a fresh start, and
   * when the newest batch had nothing from this input (keep what resuming needs in the
   * soft state, then).
   */
  readonly lastPlan?: JsonValue
  /** The soft state the input saved with the newest logged batch. */
  readonly state?: JsonValue
  /**
   * The newest logged batch, whether or not it had anything from this input: its id, its
   * time, and whether it was committed (false: it is re-run first, with the plans logged).
   * Undefined on a fresh start.
   */
  readonly lastBatch?: { readonly id: number; readonly time: number; readonly committed: boolean }
}

/** A batch as an input's RDD is built for it: its id and time, and a signal that fires on a forced stop. */
export interface InputBatch extends BatchRef {
  readonly signal: AbortSignal
}

/**
 * One input's share of one batch, decoded from the input's plan: what the driver reports
 * about it, and how to build its RDD.
 */
export interface InputSlice<T> {
  /** For BatchInfo, the progress record, the logs and the UI. */
  readonly progress: SourceProgress
  /** The Kafka ranges it reads (empty for inputs that are not Kafka); Batch.offsetRanges joins them. */
  readonly offsetRanges: readonly OffsetRange[]
  /** Ranges skipped because retention deleted them (Batch.lostRanges). */
  readonly lostRanges: readonly OffsetRange[]
  /** The batch's data from this input, read lazily when an action runs. */
  rdd(batch: InputBatch): Rdd<T>
  /** Counters known only once the data was read (undecodable records skipped or dead-lettered). */
  readCounters?(): ReadCounters
  /**
   * Who may write these ranges when processes share the input's partitions: the fencing
   * token the batch hands its sink (Batch.owner).
   */
  readonly owner?: PartitionOwner | undefined
  /**
   * Aborts when the ranges must not be written any more (the partitions are being taken
   * away); it joins the batch's signal, which sinks honor by rolling back.
   */
  readonly signal?: AbortSignal | undefined
  /** The slice's records bound for a dead-letter topic (Batch.deadLetters joins them). */
  readonly deadLetters?: DeadLetters
  /**
   * Work that must be done before the batch may commit, once its outputs succeeded (sending
   * the dead letters no output took). A failure fails the batch, which is not committed.
   */
  beforeCommit?(): Promise<void>
}

/** How an input is named: `name` when the user gave one, else `<defaultPrefix>-<k>`. */
export interface InputNaming {
  readonly name?: string | undefined
  /** The default names are `<defaultPrefix>-0`, `-1`, ... in registration order within the context. */
  readonly defaultPrefix: string
  /** Names the function that creates the input in option errors: 'createDirectStream'. */
  readonly owner: string
}

/**
 * A source of batches, and the seam every kind of input plugs into. Before each batch the
 * context asks every input for a plan — opaque plain JSON that only the input understands —
 * and logs the plans durably, each under the input's stable name, before anything reads
 * them. To run a batch (a new one, or one read back from the checkpoint after a crash,
 * which must yield the same data) the context asks the input to turn its plan back into a
 * slice: an RDD and a description.
 *
 * An input may plan nothing for a batch (undefined): it then has no RDD in that batch. Its
 * soft state (`saveState`) is logged with every batch, planned or not.
 */
export abstract class InputDStream<T> extends DStream<T> {
  /** Stable name: the key of this input's plans and state in the checkpoint. */
  readonly name: string
  /** What kind of input this is ('kafka-direct', 'queue', ...), recorded with its plans. */
  abstract readonly kind: string

  constructor(context: StreamingContext, naming: InputNaming) {
    super(context)
    this.name = context.registerInput(this, naming)
  }

  /** Connects, and decides where reading starts: from `recovery`, or (fresh) from its options. */
  abstract open(recovery: InputRecovery): Promise<void>

  /** Where reading resumes, once open. */
  abstract position(): Omit<SourcePosition, 'input' | 'kind'>

  /** Decides what the next batch reads and moves the input's position past it; undefined: nothing. */
  abstract plan(batch: BatchRef): Promise<JsonValue | undefined>

  /** Turns a plan this input made (now, or in an earlier run) back into the batch's slice. */
  abstract slice(plan: JsonValue, batch: BatchRef): InputSlice<T>

  /**
   * Called before a batch planned by an earlier run is processed again (the pending batch of
   * a restart, or a committed batch recomputed to rebuild state): a chance to check that
   * its data is still there. Returns the slice to run (by default the same one).
   */
  async revalidate(slice: InputSlice<T>, _batch: BatchRef): Promise<InputSlice<T>> {
    return slice
  }

  /**
   * Called when an output operation of a batch failed: an input whose partitions are shared
   * with other processes may find that the failure means it lost some of them (a rebalance)
   * rather than a real error. It returns the slice to run the batch's outputs again with —
   * without the ranges it no longer owns — or undefined when the failure stands and the
   * stream stops.
   */
  async withdraw(
    _slice: InputSlice<T>,
    _error: unknown,
    _batch: BatchRef,
  ): Promise<InputSlice<T> | undefined> {
    return undefined
  }

  /**
   * How this input shares its partitions with other processes (a consumer group, a static
   * split), for messages; undefined when it reads them all. State kept across batches
   * (windows, updateStateByKey, mapWithState) is refused for such an input: its partitions
   * move between processes.
   */
  sharesPartitions(): string | undefined {
    return undefined
  }

  /** Soft state to keep in the checkpoint with each batch (e.g. the rate estimator). */
  saveState(): JsonValue | undefined {
    return undefined
  }

  /** Called after a batch committed, with this input's own part of it (undefined: it had none). */
  onBatchCompleted(_info: BatchInfo, _own: SourceProgress | undefined): void {}

  /**
   * Called after each commit: the driver will never again read this input's data of batches
   * before `batchId` — not for a re-run, not for a window, not to rebuild state after a
   * restart. An input that keeps data of its own (a receiver's blocks and write-ahead log)
   * frees it here; inputs that read from a replayable source have nothing to do.
   */
  async releaseBefore(_batchId: number): Promise<void> {}

  /**
   * A graceful stop begins (the running batch has committed): an input that takes data in on
   * its own (a receiver) stops taking more and keeps what it has. The driver then plans
   * batches until no input `holdsUnplannedData()`, so that a graceful stop processes
   * everything received — Spark's stopGracefully.
   */
  async stopReceiving(): Promise<void> {}

  /** Whether the input holds data no plan has taken yet (see stopReceiving). */
  holdsUnplannedData(): boolean {
    return false
  }

  abstract close(): Promise<void>

  protected compute(batch: BatchRef): Rdd<T> | undefined {
    const slice = this.context.sliceOf(this, batch.id) as InputSlice<T> | undefined
    return slice?.rdd({ ...batch, signal: this.context.batchSignal() })
  }

  override parents(): readonly DStream<unknown>[] {
    return []
  }
}
