import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { type PidEstimatorState, PidRateEstimator } from './pid-rate-estimator.ts'
import type { RateControlSettings } from './rate-control-options.ts'

/** The timing of a completed batch, as the job runner measures it. */
export interface CompletedBatchInfo {
  /** When processing ended, in ms since the epoch. */
  readonly processingEndTime: number
  /** Records the batch read. */
  readonly numRecords: number
  /** Processing end − processing start, in ms. */
  readonly processingDelay: number
  /** Processing start − batch time: how long the batch waited, in ms. */
  readonly schedulingDelay: number
}

/** The controller's memory as plain JSON, for a checkpoint. */
export interface RateControllerState {
  readonly latestRate?: number
  readonly estimator: PidEstimatorState
}

/**
 * Holds the stream's current rate limit (records per second, whole stream) and updates it
 * from each completed batch through the PID estimator. Until the estimator produces its
 * first rate — it needs two batches — the limit is `initialRate` if one was given, which
 * keeps a stream starting on a large backlog from reading it all in its first batch.
 */
export class RateController {
  readonly estimator: PidRateEstimator
  #latestRate: number | undefined

  constructor(estimator: PidRateEstimator, initialRate?: number) {
    this.estimator = estimator
    this.#latestRate = initialRate
  }

  /** The current stream-wide rate in records per second, or undefined while there is none. */
  get latestRate(): number | undefined {
    return this.#latestRate
  }

  /** Feeds a completed batch to the estimator; returns the new rate when it changed. */
  onBatchCompleted(batch: CompletedBatchInfo): number | undefined {
    const rate = this.estimator.compute(
      batch.processingEndTime,
      batch.numRecords,
      batch.processingDelay,
      batch.schedulingDelay,
    )
    if (rate !== undefined) this.#latestRate = rate
    return rate
  }

  exportState(): RateControllerState {
    return {
      ...(this.#latestRate === undefined ? {} : { latestRate: this.#latestRate }),
      estimator: this.estimator.exportState(),
    }
  }

  /** Restores state written by `exportState`; a restored rate replaces `initialRate`. */
  restoreState(state: unknown): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      throw new SluiceError(
        ErrorCodes.STATE,
        `saved rate controller state is invalid: expected an object, got ${describeValue(state)}`,
      )
    }
    const { latestRate, estimator } = state as Record<string, unknown>
    const validRate = typeof latestRate === 'number' && Number.isFinite(latestRate) && latestRate > 0
    if (latestRate !== undefined && !validRate) {
      throw new SluiceError(
        ErrorCodes.STATE,
        `saved rate controller state is invalid: latestRate must be a positive number, got ${describeValue(latestRate)}`,
      )
    }
    this.estimator.restoreState(estimator)
    if (validRate) this.#latestRate = latestRate
  }
}

/** The stream's rate controller, or undefined when backpressure is off (then only maxRatePerPartition limits). */
export function createRateController(
  settings: RateControlSettings,
  batchIntervalMs: number,
): RateController | undefined {
  const { enabled, initialRate, pid } = settings.backpressure
  if (!enabled) return undefined
  return new RateController(new PidRateEstimator(batchIntervalMs, pid), initialRate)
}
