import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts'
import type { JsonValue } from '../checkpoint/json-value.ts'
import type { PlannedInput } from '../checkpoint/planned-batch.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { BatchClock, type Clock } from '../scheduler/batch-clock.ts'
import type { BatchRef } from './batch.ts'
import type { BatchRunner } from './batch-runner.ts'
import type { InputDStream, InputSlice } from './input-dstream.ts'
import type { BatchScope, KnownBatches } from './known-batches.ts'
import type { RecoveredStart, Recovery } from './recovery.ts'
import type { StopRequest } from './stop-request.ts'
import type { StreamGraph } from './stream-graph.ts'

export interface BatchLoopOptions {
  readonly batchInterval: number
  readonly clock: Clock
  readonly graph: StreamGraph
  readonly batches: KnownBatches
  readonly runner: BatchRunner
  readonly stop: StopRequest
  readonly store: CheckpointStore | undefined
}

/**
 * The driver's heartbeat (Spark's JobGenerator): after recovery it rebuilds state and re-runs
 * the pending batch, then every interval asks each input for its plan of the next batch,
 * logs the plans durably — the offset log written ahead, before anything reads a record —
 * and hands the batch to the runner. One batch at a time; a batch that overruns delays the
 * next one, whose scheduling delay shows it, and no batch time is ever skipped.
 */
export class BatchLoop {
  readonly #options: BatchLoopOptions

  constructor(options: BatchLoopOptions) {
    this.#options = options
  }

  async run(start: RecoveredStart, recovery: Recovery): Promise<void> {
    const { batchInterval, clock, runner, stop } = this.#options
    if (start.recompute) await recovery.recompute(start.recompute)
    // A stop during the rebuild leaves the state incomplete: run nothing on it.
    if (stop.kind !== undefined) return
    if (start.pending) await runner.run(start.pending)
    const schedule = new BatchClock(clock.now(), batchInterval)
    let nextId = start.pending ? start.pending.ref.id + 1 : start.nextBatchId
    while (stop.kind === undefined) {
      const time = schedule.next()
      if (!(await clock.waitUntil(time, stop.requestedSignal))) break
      await runner.run(await this.plan({ id: nextId++, time }))
    }
    if (stop.kind === 'graceful') await this.#drain(schedule, nextId)
  }

  /**
   * A graceful stop: inputs that receive data on their own stop receiving, and batches are
   * planned — without waiting for their time — until none holds data no batch has taken.
   */
  async #drain(schedule: BatchClock, nextId: number): Promise<void> {
    const { graph, runner, stop } = this.#options
    for (const input of graph.inputs) await input.stopReceiving()
    let id = nextId
    while (stop.kind === 'graceful' && graph.inputs.some((input) => input.holdsUnplannedData())) {
      await runner.run(await this.plan({ id: id++, time: schedule.next() }))
    }
  }

  /** Plans a new batch and logs the plan durably before anything reads it. */
  async plan(ref: BatchRef): Promise<BatchScope> {
    const { clock, graph, batches, store } = this.#options
    const planningStartedAt = clock.now()
    const entries: Record<string, PlannedInput> = {}
    const slices = new Map<InputDStream<unknown>, InputSlice<unknown>>()
    for (const input of graph.inputs) {
      const plan = await input.plan(ref)
      const state = input.saveState()
      entries[input.name] = {
        kind: input.kind,
        ...(plan === undefined ? {} : { plan }),
        ...(state === undefined ? {} : { state }),
      }
      if (plan !== undefined) slices.set(input, sliceOf(input, plan, ref))
    }
    await store?.writePlanned({ batchId: ref.id, batchTime: ref.time, inputs: entries })
    const scope: BatchScope = {
      ref,
      replay: false,
      slices,
      planningStartedAt,
      planningMs: clock.now() - planningStartedAt,
    }
    batches.set(scope)
    return scope
  }
}

/** The slice of a plan the input just made: reading its own plan back must work, now as after a restart. */
function sliceOf(input: InputDStream<unknown>, plan: JsonValue, ref: BatchRef): InputSlice<unknown> {
  try {
    return input.slice(plan, ref)
  } catch (error) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `input '${input.name}' made a plan for batch ${ref.id} that it cannot read back: ${messageOf(error)}`,
      { cause: error, details: { input: input.name, batchId: ref.id } },
    )
  }
}
