import type { JsonValue } from '../checkpoint/json-value.ts'
import { describeReceived, describeValue } from '../core/describe-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import { booleanOption, nonEmptyString, optionsObject, parseOptions, withOwner } from '../core/options.ts'
import { Rdd } from '../rdd/rdd.ts'
import type { BatchRef } from '../stream/batch.ts'
import type { SourceProgress } from '../stream/batch-progress.ts'
import {
  type InputBatch,
  InputDStream,
  type InputRecovery,
  type InputSlice,
} from '../stream/input-dstream.ts'
import type { SourcePosition } from '../stream/listener.ts'
import type { StreamingContext } from '../stream/streaming-context.ts'

/** Options of `queueStream`. */
export interface QueueStreamOptions {
  /** One queued RDD per batch (default), or every RDD queued since the last batch, as one union. */
  readonly oneAtATime?: boolean
  /** The input's name (default `queue-<k>`, k counting the context's unnamed queue streams). */
  readonly name?: string
}

/**
 * An input whose batches are RDDs you queue (Spark's queueStream): for tests, examples and
 * feeding a job from memory. `rdds` is read by position and never changed: push onto it
 * while the stream runs and the next batch takes what you pushed. A batch with nothing
 * queued has no RDD from this input, and its outputs are not called for it.
 *
 * Across restarts a queue stream keeps its place by position: the checkpoint records which
 * positions each batch took and how many were taken. A restarted job that gives the stream
 * the same RDDs in the same order (an array built by code, a listing of files) re-runs the
 * pending batch with the same RDDs and goes on after them — exactly once, like a Kafka input.
 * RDDs pushed at run time by the process that died are gone with it; if the pending batch
 * needs positions the new queue does not hold, the re-run fails saying so. (Spark refuses to
 * checkpoint a queue stream at all.)
 */
export class QueueInputDStream<T> extends InputDStream<T> {
  readonly kind = 'queue'
  readonly #rdds: readonly Rdd<T>[]
  readonly #oneAtATime: boolean
  /** Position of the next RDD to take. */
  #next = 0
  #fresh = true

  constructor(context: StreamingContext, rdds: readonly Rdd<T>[], options: QueueStreamOptions = {}) {
    withOwner('queueStream', () => checkRdds(rdds))
    const given = parseOptions(queueStreamOptions, options, 'queueStream')
    super(context, { name: given.name, defaultPrefix: 'queue', owner: 'queueStream' })
    this.#rdds = rdds
    this.#oneAtATime = given.oneAtATime ?? true
  }

  async open(recovery: InputRecovery): Promise<void> {
    if (recovery.state !== undefined) {
      this.#next = readPosition(
        recovery.state,
        'next',
        `the checkpointed state of queue stream '${this.name}'`,
      )
      this.#fresh = false
    }
  }

  position(): Omit<SourcePosition, 'input' | 'kind'> {
    return { fresh: this.#fresh, description: `queue position ${this.#next}`, offsets: [] }
  }

  async plan(_batch: BatchRef): Promise<JsonValue | undefined> {
    checkRdds(this.#rdds)
    const available = this.#rdds.length - this.#next
    if (available <= 0) return undefined
    const from = this.#next
    const until = this.#oneAtATime ? from + 1 : this.#rdds.length
    this.#next = until
    // Counting runs each queued RDD once more; a queue stream is for tests and examples.
    let records = 0
    for (let position = from; position < until; position++) records += await this.#rdds[position]!.count()
    return { from, until, records }
  }

  slice(plan: JsonValue, batch: BatchRef): QueueSlice<T> {
    const what = `the plan of queue stream '${this.name}' for batch ${batch.id}`
    const from = readPosition(plan, 'from', what)
    const until = readPosition(plan, 'until', what)
    const records = readPosition(plan, 'records', what)
    if (until <= from)
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `${what} takes no RDD (from ${from}, until ${until})`,
      )
    const progress: SourceProgress = {
      input: this.name,
      kind: this.kind,
      description: until - from === 1 ? `queue item ${from}` : `queue items ${from} to ${until - 1}`,
      rateLimit: null,
      numInputRecords: records,
      lostRecords: 0,
      partitions: [],
    }
    return {
      from,
      until,
      progress,
      offsetRanges: [],
      lostRanges: [],
      rdd: (inputBatch: InputBatch) => this.#union(from, until, inputBatch),
    }
  }

  /** A batch an earlier run planned needs its RDDs at the same positions of this run's queue. */
  override async revalidate(slice: InputSlice<T>, batch: BatchRef): Promise<InputSlice<T>> {
    const { from, until } = slice as QueueSlice<T>
    this.#checkHolds(from, until, batch)
    return slice
  }

  override saveState(): JsonValue {
    return { next: this.#next }
  }

  async close(): Promise<void> {}

  #union(from: number, until: number, batch: BatchRef): Rdd<T> {
    this.#checkHolds(from, until, batch)
    const [first, ...rest] = this.#rdds.slice(from, until)
    return rest.length === 0 ? first! : first!.union(...rest)
  }

  #checkHolds(from: number, until: number, batch: BatchRef): void {
    if (until > this.#rdds.length) {
      throw new SluiceError(
        ErrorCodes.STATE,
        `queue stream '${this.name}': batch ${batch.id} takes the RDDs at positions ${from} to ${until - 1}, but the ` +
          `queue holds ${this.#rdds.length}. A queue stream resumes by position: give it the same RDDs in the same ` +
          'order on every start, or start over with another checkpoint directory',
        { details: { input: this.name, batchId: batch.id, from, until, queued: this.#rdds.length } },
      )
    }
  }
}

/** A queue stream's share of a batch: the RDDs at positions [from, until) of its queue. */
interface QueueSlice<T> extends InputSlice<T> {
  readonly from: number
  readonly until: number
}

const queueStreamOptions = optionsObject({ oneAtATime: booleanOption, name: nonEmptyString })

function checkRdds(rdds: unknown): void {
  if (!Array.isArray(rdds))
    throw invalidOption('rdds', `must be an array of RDDs, got ${describeReceived(rdds)}`)
  const bad = rdds.findIndex((rdd) => !(rdd instanceof Rdd))
  if (bad >= 0) {
    const got = describeReceived(rdds[bad])
    throw invalidOption(`rdds[${bad}]`, `must be an RDD (parallelize(...) makes one), got ${got}`)
  }
}

function readPosition(json: JsonValue, field: string, what: string): number {
  const value = json !== null && typeof json === 'object' && !Array.isArray(json) ? json[field] : undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError(
      ErrorCodes.STATE,
      `${what} is malformed: '${field}' must be a non-negative integer, got ${describeValue(value)}`,
    )
  }
  return value
}

/** A stream of the RDDs in `rdds`, one batch each (or all queued ones per batch) — Spark's `queueStream`. */
export function queueStream<T>(
  context: StreamingContext,
  rdds: readonly Rdd<T>[],
  options: QueueStreamOptions = {},
): QueueInputDStream<T> {
  return new QueueInputDStream(context, rdds, options)
}
