import { describeValue } from '../core/describe-value.ts'
import { invalidOption } from '../core/errors.ts'

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

const PID_KEYS = ['proportional', 'integral', 'derived', 'minRate'] as const
const BACKPRESSURE_KEYS = ['enabled', 'initialRate', 'pid'] as const

/** An options object: undefined means "all defaults"; a misspelt key is refused, not ignored. */
function optionsObject(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(path, `must be an object, got ${describeValue(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw invalidOption(`${path}.${key}`, `is not a known option (known: ${known.join(', ')})`)
    }
  }
  return value as Record<string, unknown>
}

/** A finite number at or above 0 (`min: 'zero'`) or strictly above 0 (`min: 'positive'`). */
function checkNumber(value: unknown, path: string, min: 'zero' | 'positive', what: string): number {
  const valid =
    typeof value === 'number' && Number.isFinite(value) && (min === 'zero' ? value >= 0 : value > 0)
  if (!valid) throw invalidOption(path, `must be ${what}, got ${describeValue(value)}`)
  return value
}

/** Checks PID options (Spark's rules: gains >= 0, minRate > 0) and fills in the defaults. */
export function normalizePidOptions(input: PidOptions | undefined, path = 'backpressure.pid'): PidSettings {
  const pid = optionsObject(input, path, PID_KEYS)
  const gain = (key: 'proportional' | 'integral' | 'derived') =>
    pid[key] === undefined
      ? PID_DEFAULTS[key]
      : checkNumber(pid[key], `${path}.${key}`, 'zero', 'a non-negative number')
  return {
    proportional: gain('proportional'),
    integral: gain('integral'),
    derived: gain('derived'),
    minRate:
      pid.minRate === undefined
        ? PID_DEFAULTS.minRate
        : checkNumber(pid.minRate, `${path}.minRate`, 'positive', 'a positive number of records per second'),
  }
}

/**
 * Checks the rate-control options of a direct stream and fills in the defaults; the
 * stream calls it at construction so a bad value fails before anything runs. Other keys
 * of `options` (brokers, topics...) are not looked at.
 */
export function normalizeRateControlOptions(options: RateControlOptions = {}): RateControlSettings {
  const defaults = RATE_CONTROL_DEFAULTS
  const maxRatePerPartition =
    options.maxRatePerPartition === undefined
      ? defaults.maxRatePerPartition
      : checkNumber(
          options.maxRatePerPartition,
          'maxRatePerPartition',
          'zero',
          'a non-negative number of records per second (0 = no limit)',
        )
  const minRatePerPartition = options.minRatePerPartition ?? defaults.minRatePerPartition
  if (!Number.isSafeInteger(minRatePerPartition) || minRatePerPartition < 1) {
    throw invalidOption(
      'minRatePerPartition',
      `must be a positive integer (records per partition per batch), got ${describeValue(minRatePerPartition)}`,
    )
  }
  const backpressure = optionsObject(options.backpressure, 'backpressure', BACKPRESSURE_KEYS)
  const enabled = backpressure.enabled ?? defaults.backpressure.enabled
  if (typeof enabled !== 'boolean') {
    throw invalidOption('backpressure.enabled', `must be a boolean, got ${describeValue(enabled)}`)
  }
  const initialRate =
    backpressure.initialRate === undefined
      ? undefined
      : checkNumber(
          backpressure.initialRate,
          'backpressure.initialRate',
          'positive',
          'a positive number of records per second',
        )
  const pid = normalizePidOptions(backpressure.pid as PidOptions | undefined)
  return {
    maxRatePerPartition,
    minRatePerPartition,
    backpressure: { enabled, ...(initialRate === undefined ? {} : { initialRate }), pid },
  }
}
