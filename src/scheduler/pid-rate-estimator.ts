import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import { normalizePidOptions, type PidOptions, type PidSettings } from './rate-control-options.ts'

/**
 * Everything the estimator remembers between batches, as plain JSON so the stream can
 * checkpoint it. The initial values are Spark's (-1 = nothing seen yet).
 */
export interface PidEstimatorState {
  readonly firstRun: boolean
  /** When the last counted batch finished processing, in ms. */
  readonly latestTime: number
  /** The last estimate, in records per second. */
  readonly latestRate: number
  readonly latestError: number
}

const INITIAL_STATE: PidEstimatorState = Object.freeze({
  firstRun: true,
  latestTime: -1,
  latestRate: -1,
  latestError: -1,
})

function assertBatchInterval(batchIntervalMs: unknown): asserts batchIntervalMs is number {
  if (typeof batchIntervalMs !== 'number' || !Number.isFinite(batchIntervalMs) || batchIntervalMs <= 0) {
    throw invalidOption(
      'batchInterval',
      `must be a positive number of milliseconds, got ${describeValue(batchIntervalMs)}`,
    )
  }
}

function assertMeasurement(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `${name} must be a finite number, got ${describeValue(value)}`,
    )
  }
}

function invalidState(problem: string): SluiceError {
  return new SluiceError(ErrorCodes.STATE, `saved PID rate estimator state is invalid: ${problem}`)
}

/**
 * Spark's PID rate estimator: after each batch it compares the rate the stream was
 * allowed with the rate the batch was actually processed at, and steers the next rate
 *
 *   newRate = max(minRate, latestRate − Kp·error − Ki·historicalError − Kd·dError)
 *
 * where error = latestRate − processingRate (too fast or too slow right now),
 * historicalError = schedulingDelay · processingRate / batchInterval (the backlog that
 * built up, in records per second), and dError is the change of error per second.
 */
export class PidRateEstimator {
  readonly batchIntervalMs: number
  readonly settings: PidSettings
  #state: PidEstimatorState = INITIAL_STATE

  /** Validates at construction, with Spark's rules; `pid` defaults to Spark's gains. */
  constructor(batchIntervalMs: number, pid?: PidOptions) {
    assertBatchInterval(batchIntervalMs)
    this.batchIntervalMs = batchIntervalMs
    this.settings = normalizePidOptions(pid)
  }

  /**
   * Feeds one completed batch and returns the new rate in records per second, or undefined
   * when there is none. A batch only counts if it finished after the last counted one and
   * processed at least one record in a positive time; the first batch that counts only
   * calibrates (there is no previous rate to correct yet).
   *
   * @param time when the batch finished processing, in ms
   * @param numElements records the batch processed
   * @param processingDelay how long processing took, in ms
   * @param schedulingDelay how long the batch waited before processing started, in ms
   */
  compute(
    time: number,
    numElements: number,
    processingDelay: number,
    schedulingDelay: number,
  ): number | undefined {
    assertMeasurement('time', time)
    assertMeasurement('numElements', numElements)
    assertMeasurement('processingDelay', processingDelay)
    assertMeasurement('schedulingDelay', schedulingDelay)
    const { firstRun, latestTime, latestRate, latestError } = this.#state
    if (!(time > latestTime && numElements > 0 && processingDelay > 0)) return undefined

    const { proportional, integral, derived, minRate } = this.settings
    const delaySinceUpdate = (time - latestTime) / 1000 // seconds, close to the batch interval
    const processingRate = (numElements / processingDelay) * 1000 // records per second
    const error = latestRate - processingRate
    const historicalError = (schedulingDelay * processingRate) / this.batchIntervalMs
    const dError = (error - latestError) / delaySinceUpdate // records per second, per second
    const newRate = Math.max(
      minRate,
      latestRate - proportional * error - integral * historicalError - derived * dError,
    )

    if (firstRun) {
      this.#state = { firstRun: false, latestTime: time, latestRate: processingRate, latestError: 0 }
      return undefined
    }
    this.#state = { firstRun: false, latestTime: time, latestRate: newRate, latestError: error }
    return newRate
  }

  /** The state as plain JSON, for a checkpoint. */
  exportState(): PidEstimatorState {
    return { ...this.#state }
  }

  /** Restores state written by `exportState`, checking it first (it comes from disk). */
  restoreState(state: unknown): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      throw invalidState(`expected an object, got ${describeValue(state)}`)
    }
    const { firstRun, latestTime, latestRate, latestError } = state as Record<string, unknown>
    if (typeof firstRun !== 'boolean')
      throw invalidState(`firstRun must be a boolean, got ${describeValue(firstRun)}`)
    for (const [name, value] of [
      ['latestTime', latestTime],
      ['latestRate', latestRate],
      ['latestError', latestError],
    ] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw invalidState(`${name} must be a finite number, got ${describeValue(value)}`)
      }
    }
    this.#state = {
      firstRun,
      latestTime: latestTime as number,
      latestRate: latestRate as number,
      latestError: latestError as number,
    }
  }
}
