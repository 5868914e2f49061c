import { CheckpointStore, type RecoveryView } from '../checkpoint/checkpoint-store.ts'
import type { PlannedBatch, PlannedInput } from '../checkpoint/planned-batch.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import type { Clock } from '../scheduler/batch-clock.ts'
import type { BatchRef } from './batch.ts'
import type { InputDStream, InputSlice } from './input-dstream.ts'
import type { BatchScope, KnownBatches } from './known-batches.ts'
import type { SourcePosition } from './listener.ts'
import type { StopRequest } from './stop-request.ts'
import type { StreamGraph } from './stream-graph.ts'

export interface RecoveryOptions {
  readonly appName: string
  readonly checkpointDir: string | undefined
  readonly checkpointRetain: number
  readonly graph: StreamGraph
  readonly batches: KnownBatches
  readonly clock: Clock
  readonly stop: StopRequest
  readonly logger: Logger
}

/** Committed batches a restart recomputes, without outputs, to rebuild state. */
export interface RecomputeRange {
  readonly from: number
  readonly to: number
}

/** Where the batch loop starts. */
export interface RecoveredStart {
  /** The id the next newly planned batch gets. */
  readonly nextBatchId: number
  /** The planned-but-uncommitted batch to re-run first, with exactly its logged plans. */
  readonly pending?: BatchScope
  readonly recompute?: RecomputeRange
  /** The newest committed batch, if the checkpoint has one. */
  readonly lastCommittedBatchId?: number
  readonly resumedFrom: SourcePosition[]
}

/**
 * What a restart does before the first batch (Spark's checkpoint recovery, on our logs):
 * opens the checkpoint (taking its lock), gives every input its plan and soft state from the
 * newest logged batch, lets windows and stateful streams load their state, and reads back
 * the plans of the batches still needed — the pending one, the ones windows read back, and
 * the committed ones to recompute for state. A stop requested meanwhile ends it between
 * steps (undefined); nothing it does needs undoing.
 */
export class Recovery {
  readonly #options: RecoveryOptions
  #store: CheckpointStore | undefined

  constructor(options: RecoveryOptions) {
    this.#options = options
  }

  /** The open checkpoint, once `run` opened it. */
  get store(): CheckpointStore | undefined {
    return this.#store
  }

  async run(): Promise<RecoveredStart | undefined> {
    const { graph, stop } = this.#options
    const view = await this.#openCheckpoint()
    if (stop.kind) return undefined
    const latest = view?.latestEntry
    const fromCheckpoint = latest === undefined ? undefined : this.#entriesOf(latest, true)
    for (const input of graph.inputs) {
      const own = fromCheckpoint?.get(input)
      await input.open({
        ...(own?.plan === undefined ? {} : { lastPlan: own.plan }),
        ...(own?.state === undefined ? {} : { state: own.state }),
        ...(latest === undefined
          ? {}
          : {
              lastBatch: {
                id: latest.batchId,
                time: latest.batchTime,
                committed: view?.pendingBatch === undefined,
              },
            }),
      })
      if (stop.kind) return undefined
    }
    const recomputeFrom = await this.#recoverHooks(view)
    if (stop.kind) return undefined
    const resumedFrom = graph.inputs.map((input) => ({
      input: input.name,
      kind: input.kind,
      ...input.position(),
    }))
    if (!view) return { nextBatchId: 0, resumedFrom }
    const committed = view.lastCommittedBatchId
    const recompute =
      recomputeFrom !== undefined && committed !== undefined && recomputeFrom <= committed
        ? { from: recomputeFrom, to: committed }
        : undefined
    await this.#loadHistory(view, recompute?.from)
    const pending = view.pendingBatch ? this.#options.batches.get(view.pendingBatch.batchId) : undefined
    return {
      nextBatchId: view.nextBatchId,
      ...(pending ? { pending } : {}),
      ...(recompute ? { recompute } : {}),
      ...(committed === undefined ? {} : { lastCommittedBatchId: committed }),
      resumedFrom,
    }
  }

  /**
   * Rebuilds state after a restart: recomputes the committed batches after the newest
   * snapshot from their logged plans. Their outputs already happened, so none runs, no
   * listener hears of them, nothing is committed again. A stop ends it between batches; the
   * next start recomputes from the same snapshot.
   */
  async recompute({ from, to }: RecomputeRange): Promise<void> {
    const { graph, batches, stop, logger, clock } = this.#options
    const started = clock.now()
    logger.info('recomputing committed batches to rebuild state', { from, to })
    for (let id = from; id <= to && stop.kind === undefined; id++) {
      const known = batches.get(id)
      if (!known)
        throw new SluiceError(ErrorCodes.STATE, `cannot recompute batch ${id}: its plan was not loaded`)
      try {
        const scope = await revalidated(known)
        batches.set(scope)
        for (const hooks of graph.hooks) {
          await hooks.beforeOutputs?.(scope.ref, { replay: true, signal: stop.forcedSignal })
        }
      } catch (error) {
        throw new SluiceError(
          ErrorCodes.STATE,
          `recomputing committed batch ${id} to rebuild state failed: ${messageOf(error)}`,
          { cause: error, details: { batchId: id, from, to } },
        )
      }
      for (const hooks of graph.hooks) await hooks.afterBatch?.(known.ref, { replay: true })
      graph.forget(known.ref)
      batches.forgetBefore(id - graph.history)
    }
    logger.info('state rebuilt', { from, to, ms: clock.now() - started })
  }

  async #openCheckpoint(): Promise<RecoveryView | undefined> {
    const { checkpointDir, appName, checkpointRetain, logger } = this.#options
    if (checkpointDir === undefined) return undefined
    this.#store = await CheckpointStore.open(checkpointDir, { appName, retain: checkpointRetain, logger })
    return this.#store.recover()
  }

  /** Lets every stateful stream load its state; returns the first committed batch to recompute. */
  async #recoverHooks(view: RecoveryView | undefined): Promise<number | undefined> {
    const { graph, logger } = this.#options
    let from: number | undefined
    for (const hooks of graph.hooks) {
      const first = await hooks.recover?.({
        store: this.#store,
        lastCommittedBatchId: view?.lastCommittedBatchId,
        history: graph.history,
        logger,
      })
      if (first !== undefined) from = Math.min(from ?? first, first)
    }
    return from
  }

  /**
   * Reads back the plans of the pending batch and of the batches windows still need — and,
   * with state to rebuild, of the batches to recompute from `recomputeFrom` on.
   */
  async #loadHistory(view: RecoveryView, recomputeFrom: number | undefined): Promise<void> {
    const { graph, batches, clock } = this.#options
    const latest = view.latestEntry
    if (!this.#store || !latest) return
    const first = Math.max(0, Math.min(latest.batchId, recomputeFrom ?? latest.batchId) - graph.history)
    for (const entry of await this.#store.readPlannedBatches(first, latest.batchId)) {
      const ref: BatchRef = { id: entry.batchId, time: entry.batchTime }
      const slices = new Map<InputDStream<unknown>, InputSlice<unknown>>()
      for (const [input, own] of this.#entriesOf(entry, false)) {
        if (own.plan === undefined) continue
        try {
          slices.set(input, input.slice(own.plan, ref))
        } catch (error) {
          throw new SluiceError(
            ErrorCodes.CHECKPOINT,
            `input '${input.name}' cannot read its plan of batch ${entry.batchId} in checkpoint '${this.#store.dir}': ${messageOf(error)}`,
            { cause: error, details: { dir: this.#store.dir, batchId: entry.batchId, input: input.name } },
          )
        }
      }
      const replay = view.pendingBatch?.batchId === entry.batchId
      batches.set({ ref, replay, slices, planningStartedAt: clock.now(), planningMs: 0 })
    }
  }

  /**
   * Each input's part of a logged batch, matched by name. Inputs are named stably per
   * context, so the names match unless the job's inputs changed; `report` (for the newest
   * entry) says what did not match. A format-1 entry named its inputs by a process-wide
   * counter, so a lone format-1 input is given to a lone unmatched Kafka input whatever the
   * names.
   */
  #entriesOf(entry: PlannedBatch, report: boolean): Map<InputDStream<unknown>, PlannedInput> {
    const { graph, logger } = this.#options
    const matched = new Map<InputDStream<unknown>, PlannedInput>()
    const unknown = new Set(Object.keys(entry.inputs))
    for (const input of graph.inputs) {
      const own = entry.inputs[input.name]
      if (own === undefined) continue
      if (own.kind !== input.kind) {
        throw new SluiceError(
          ErrorCodes.CHECKPOINT,
          `input '${input.name}' is a ${input.kind} input, but the checkpoint holds a ${own.kind} input of that name ` +
            `(batch ${entry.batchId}); give the new input another name`,
          { details: { input: input.name, kind: input.kind, found: own.kind, batchId: entry.batchId } },
        )
      }
      matched.set(input, own)
      unknown.delete(input.name)
    }
    const fresh = graph.inputs.filter((input) => !matched.has(input))
    if (
      entry.upgradedFrom === 1 &&
      unknown.size === 1 &&
      fresh.length === 1 &&
      fresh[0]!.kind === 'kafka-direct'
    ) {
      const [oldName] = unknown
      matched.set(fresh[0]!, entry.inputs[oldName!]!)
      if (report) {
        logger.info("a format-1 checkpoint input is taken over by the job's only Kafka input", {
          checkpointInput: oldName,
          input: fresh[0]!.name,
        })
      }
      return matched
    }
    if (report) {
      for (const name of unknown) {
        logger.warn(
          'the checkpoint has an input this job does not define; its position is forgotten with the next batch. ' +
            "If an input was renamed, give it its old name (option 'name')",
          { checkpointInput: name, inputs: graph.inputs.map((input) => input.name) },
        )
      }
      for (const input of fresh) {
        logger.info('an input new to this checkpoint starts where its options say', { input: input.name })
      }
    }
    return matched
  }
}

/** The scope with every slice checked by its input, before work planned by an earlier run is redone. */
export async function revalidated(scope: BatchScope): Promise<BatchScope> {
  const slices = new Map<InputDStream<unknown>, InputSlice<unknown>>()
  for (const [input, slice] of scope.slices) slices.set(input, await input.revalidate(slice, scope.ref))
  return { ...scope, slices }
}
