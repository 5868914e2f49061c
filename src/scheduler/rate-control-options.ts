import { invalidOption } from '../core/errors.ts'
import {
  booleanOption,
  integerOption,
  numberOption,
  optionsObject,
  type ParsedOptions,
} from '../core/options.ts'

/** The PID controller's gains and floor, as a user may give them (all optional). */
export interface PidOptions {
  /** Weight of the current error (latest rate − processing rate). Default 1. */
  proportional?: number
  /** Weight of the accumulated error, measured by the scheduling delay. Default 0.2. */
  integral?: number
  /** Weight of the error's rate of change. Default 0 (off). Spark calls it `derived`. */
  derived?: number
  /** The estimate never goes below this many records per second. Default 100. */
  minRate?: number
}

/** Backpressure: a PID controller adapts the stream's rate to how fast batches are processed (Spark's algorithm). */
export interface BackpressureOptions {
  /** Adapt the stream's rate to how fast batches are processed. Default false. */
  enabled?: boolean
  /** Records per second for the whole stream until the estimator has its first rate. */
  initialRate?: number
  pid?: PidOptions
}

/** The rate-control part of a direct stream's options, as the user gives it. */
export interface RateControlOptions {
  /** Records per second each partition may contribute at most. 0 (default) = no limit. */
  maxRatePerPartition?: number
  /** Records each partition contributes per batch at least when the stream is limited. Default 1. */
  minRatePerPartition?: number
  backpressure?: BackpressureOptions
}

export interface PidSettings {
  readonly proportional: number
  readonly integral: number
  readonly derived: number
  readonly minRate: number
}

/** Rate control with every default filled in; what the engine works from. */
export interface RateControlSettings {
  readonly maxRatePerPartition: number
  readonly minRatePerPartition: number
  readonly backpressure: {
    readonly enabled: boolean
    readonly initialRate?: number
    readonly pid: PidSettings
  }
}

/** Spark's defaults. Kept apart from user input, which only ever overrides them. */
export const PID_DEFAULTS: PidSettings = Object.freeze({
  proportional: 1,
  integral: 0.2,
  derived: 0,
  minRate: 100,
})

export const RATE_CONTROL_DEFAULTS: RateControlSettings = Object.freeze({
  maxRatePerPartition: 0,
  minRatePerPartition: 1,
  backpressure: Object.freeze({ enabled: false, pid: PID_DEFAULTS }),
})

const RECORDS_PER_SECOND = 'records per second'

/** The PID options' schema: Spark's rules, gains >= 0 and minRate > 0. */
export const pidOptions = optionsObject({
  proportional: numberOption({ min: 0 }),
  integral: numberOption({ min: 0 }),
  derived: numberOption({ min: 0 }),
  minRate: numberOption({ above: 0, unit: RECORDS_PER_SECOND }),
})

const backpressureOptions = optionsObject({
  enabled: booleanOption,
  initialRate: numberOption({ above: 0, unit: RECORDS_PER_SECOND }),
  pid: pidOptions,
})

/** The schema fields of RateControlOptions, for the options types that extend it. */
export const rateControlOptionFields = {
  maxRatePerPartition: numberOption({ min: 0, unit: 'records per second, 0 = no limit' }),
  minRatePerPartition: integerOption({
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'records per partition per batch',
  }),
  backpressure: backpressureOptions,
}

const rateControlOptions = optionsObject(rateControlOptionFields)

/** Checks PID options and fills in the defaults; `path` names them in messages. */
export function normalizePidOptions(input: PidOptions | undefined, path = 'backpressure.pid'): PidSettings {
  return { ...PID_DEFAULTS, ...(input === undefined ? {} : pidOptions.parse(input, path)) }
}

/**
 * Rate control with every default filled in, from options already parsed with
 * `rateControlOptionFields`. A floor of `minRatePerPartition` records per batch above what
 * `maxRatePerPartition` allows in one batch would make the cap a lie, so it is refused.
 */
export function rateControlSettings(
  parsed: ParsedOptions<typeof rateControlOptionFields>,
  batchIntervalMs: number,
): RateControlSettings {
  const maxRatePerPartition = parsed.maxRatePerPartition ?? RATE_CONTROL_DEFAULTS.maxRatePerPartition
  const minRatePerPartition = parsed.minRatePerPartition ?? RATE_CONTROL_DEFAULTS.minRatePerPartition
  const maxPerBatch = Math.floor((batchIntervalMs / 1000) * maxRatePerPartition)
  if (maxRatePerPartition > 0 && minRatePerPartition > maxPerBatch) {
    const perBatch = `${maxRatePerPartition} records/s × ${batchIntervalMs} ms = ${maxPerBatch} records per partition per batch`
    throw parsed.minRatePerPartition === undefined
      ? invalidOption(
          'maxRatePerPartition',
          `must allow at least minRatePerPartition (${minRatePerPartition}) records per batch; it allows ${perBatch}`,
        )
      : invalidOption(
          'minRatePerPartition',
          `must not exceed what maxRatePerPartition allows (${perBatch}), got ${minRatePerPartition}`,
        )
  }
  const backpressure = parsed.backpressure ?? {}
  const initialRate = backpressure.initialRate
  return {
    maxRatePerPartition,
    minRatePerPartition,
    backpressure: {
      enabled: backpressure.enabled ?? RATE_CONTROL_DEFAULTS.backpressure.enabled,
      ...(initialRate === undefined ? {} : { initialRate }),
      pid: { ...PID_DEFAULTS, ...backpressure.pid },
    },
  }
}

/**
 * Checks rate-control options on their own (no other keys) and fills in the defaults; a
 * direct stream checks them as part of its own options and calls `rateControlSettings`.
 */
export function normalizeRateControlOptions(
  options: RateControlOptions = {},
  batchIntervalMs = 1000,
): RateControlSettings {
  return rateControlSettings(rateControlOptions.parse(options, ''), batchIntervalMs)
}
