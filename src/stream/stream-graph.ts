import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import { withOwner } from '../core/options.ts'
import type { BatchRef } from './batch.ts'
import type { BatchFunction, DStream } from './dstream.ts'
import type { InputDStream, InputNaming } from './input-dstream.ts'
import { type BatchHooks, collectHooks } from './stream-hooks.ts'

export interface OutputOperation {
  readonly stream: DStream<unknown>
  readonly fn: BatchFunction<unknown>
  readonly name: string
}

/** Input names are checkpoint keys, log fields and metric labels: short and plain. */
const INPUT_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/

/**
 * The job as defined: its inputs (each with a stable name), its output operations, and —
 * fixed at start — the windows and stateful streams between them (Spark's DStreamGraph).
 */
export class StreamGraph {
  readonly inputs: InputDStream<unknown>[] = []
  readonly outputs: OutputOperation[] = []
  /** Unnamed inputs per default prefix, so default names follow registration order. */
  readonly #unnamed = new Map<string, number>()
  /** Earlier batches the job reads per batch (its longest window); fixed at start. */
  #history = 0
  /** Windows and stateful streams feeding the outputs, parents first; fixed at start. */
  #hooks: readonly BatchHooks[] = []

  get history(): number {
    return this.#history
  }

  get hooks(): readonly BatchHooks[] {
    return this.#hooks
  }

  /**
   * Adds an input and returns its name: the one given, or `<prefix>-<k>` where k counts the
   * unnamed inputs with that prefix registered before it in this context. Two contexts in
   * one process therefore name their inputs alike, and a checkpoint finds its inputs again.
   */
  registerInput(input: InputDStream<unknown>, naming: InputNaming): string {
    const name = withOwner(naming.owner, () => this.#nameOf(naming))
    this.inputs.push(input)
    return name
  }

  #nameOf(naming: InputNaming): string {
    let name: string
    if (naming.name === undefined) {
      const k = this.#unnamed.get(naming.defaultPrefix) ?? 0
      this.#unnamed.set(naming.defaultPrefix, k + 1)
      name = `${naming.defaultPrefix}-${k}`
    } else {
      if (typeof naming.name !== 'string' || !INPUT_NAME.test(naming.name)) {
        throw invalidOption(
          'name',
          `must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.', got ${describeValue(naming.name)}`,
        )
      }
      name = naming.name
    }
    if (this.inputs.some((other) => other.name === name)) {
      throw invalidOption(
        'name',
        `'${name}' is already the name of another input of this StreamingContext; give each input its own name`,
      )
    }
    return name
  }

  registerOutput(output: OutputOperation): void {
    this.outputs.push(output)
  }

  /** Fixes what the batch loop needs to know of the job; fails when nothing would run. */
  prepare(): void {
    if (this.outputs.length === 0) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        'the StreamingContext has no output operation: call foreachBatch() or print() on a stream first',
      )
    }
    this.#history = Math.max(...this.outputs.map((o) => o.stream.historyBatches()))
    this.#hooks = collectHooks(this.outputs.map((o) => o.stream))
    this.#refuseStateOnSharedInputs()
    for (const output of this.outputs) output.stream.rememberBatches(0)
  }

  /**
   * Windows and state are keyed across the whole stream; an input whose partitions other
   * processes share (and which move between them) sees only part of it, and a different part
   * after each rebalance, so their results would silently depend on who owned what when.
   */
  #refuseStateOnSharedInputs(): void {
    const shared = this.inputs.filter((input) => input.sharesPartitions() !== undefined)
    if (shared.length === 0) return
    const stateful = [
      ...this.#hooks.map((hooks) => hooks.name),
      ...(this.#history > 0 ? [`a window over ${this.#history + 1} batches`] : []),
    ]
    if (stateful.length === 0) return
    const input = shared[0]!
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `input '${input.name}' shares its partitions with other processes (${input.sharesPartitions()}), ` +
        `so windows and state cannot be used on it (${stateful.join(', ')}): they combine records across the ` +
        'whole stream, and each process sees only its partitions, which move at every rebalance. That would ' +
        'take state kept per input partition, stored with the sink and handed over with the partition (as ' +
        "Kafka Streams' changelog topics do), which sluice does not have yet. Run the job as one process, or " +
        'keep the aggregate in the sink (an upsert that adds per key)',
      { details: { input: input.name, stateful } },
    )
  }

  /** After `batch`: each stream drops the RDDs no later batch reads. */
  forget(batch: BatchRef): void {
    for (const output of this.outputs) output.stream.forgetOld(batch.id)
  }

  /** Drops what was built for `batch` (its inputs' slices were revised): outputs build it anew. */
  forgetBatch(batch: BatchRef): void {
    for (const output of this.outputs) output.stream.forgetBatch(batch.id)
  }

  /** The oldest offset-log entry to keep after `batchId`: windows reach `history` back, state to its snapshots. */
  keepFromBatchId(batchId: number): number {
    let keep = batchId - this.#history
    for (const hooks of this.#hooks) keep = Math.min(keep, hooks.oldestBatchNeeded?.() ?? keep)
    return Math.max(0, keep)
  }

  /** Keys and approximate bytes held by the stateful streams. */
  stateMemory(): { keys: number; bytes: number } {
    let keys = 0
    let bytes = 0
    for (const hooks of this.#hooks) {
      const memory = hooks.memory?.()
      keys += memory?.keys ?? 0
      bytes += memory?.bytes ?? 0
    }
    return { keys, bytes }
  }
}
