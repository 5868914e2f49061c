import { describeReceived } from '../core/describe-value.ts'
import { invalidOption } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import {
  booleanOption,
  customOption,
  durationMs,
  integerOption,
  loggerOption,
  MAX_TIMER_MS,
  nonEmptyString,
  optionsObject,
  parseOptions,
  positiveInteger,
  required,
  stringOption,
} from '../core/options.ts'
import { adaptLogger, type PinoLikeLogger } from '../core/pino-logger.ts'
import { type Clock, isClock, systemClock } from '../scheduler/batch-clock.ts'

/** The web UI and metrics server (src/observe); `true` takes every default. */
export type UiOptions =
  | boolean
  | {
      /** Default 4040. */
      readonly port?: number
      /** Default 127.0.0.1 (loopback only). */
      readonly host?: string
      /** Batches kept in the UI's history. Default 1000. */
      readonly historySize?: number
      /** A prom-client Registry to register the metrics on, instead of sluice's own. */
      readonly registry?: unknown
      /** /readyz answers 503 once no batch finished for this many batch intervals. Default 10. */
      readonly readinessIntervals?: number
    }

/** Options of `new StreamingContext`. */
export interface StreamingContextOptions {
  /** Names the application; a checkpoint written by another name is refused. */
  readonly appName: string
  /** Milliseconds between batches. */
  readonly batchInterval: number
  /** Directory of the offset log, commit log and state; without it nothing survives a restart. */
  readonly checkpoint?: string
  /** Newest batches kept in the checkpoint logs (windows may keep more). Default 100. */
  readonly checkpointRetain?: number
  /**
   * SIGINT/SIGTERM stop the stream gracefully, within `stopTimeout`; a second signal forces
   * the stop. Default true. The handlers are installed as `start()` begins and removed when
   * the stream stops.
   */
  readonly stopOnSignals?: boolean
  /**
   * How long a graceful stop waits for the running batch, in ms, before abandoning it
   * uncommitted (a restart re-runs it); 0 waits as long as the batch takes. Default 20,000:
   * inside the 30 s a container runtime or systemd usually allows before SIGKILL.
   */
  readonly stopTimeout?: number
  /** Partition tasks running at once (each holds up to two fetches). Default 4. */
  readonly taskConcurrency?: number
  /** Attempts per task before a batch fails. Default 4. */
  readonly maxTaskAttempts?: number
  /** sluice's Logger, or a pino-compatible one (`info(obj, msg)`). Default: JSON lines on stderr. */
  readonly logger?: Logger | PinoLikeLogger
  /** Where batch times come from: a ManualClock (sluice/testing) runs batches when told. Default: the wall clock. */
  readonly clock?: Clock
  /** Serve the web UI, /metrics, /healthz and /readyz from the job (see docs/ui.md). */
  readonly ui?: UiOptions
}

export interface ResolvedContextOptions {
  readonly appName: string
  readonly batchInterval: number
  readonly checkpoint: string | undefined
  readonly checkpointRetain: number
  readonly stopOnSignals: boolean
  readonly stopTimeout: number
  readonly taskConcurrency: number | undefined
  readonly maxTaskAttempts: number | undefined
  readonly logger: Logger
  readonly clock: Clock
  readonly ui: Exclude<UiOptions, false> | undefined
}

const CONTEXT_DEFAULTS = {
  checkpointRetain: 100,
  stopOnSignals: true,
  stopTimeout: 20_000,
  clock: systemClock,
}

const clockExpected = 'a Clock (an object with now() and waitUntil(time, signal))'

const clockOption = customOption<Clock>(clockExpected, (value, path) => {
  if (!isClock(value)) throw invalidOption(path, `must be ${clockExpected}, got ${describeReceived(value)}`)
  return value
})

const uiExpected = 'true, false or { port, host, historySize, registry }'

const uiObject = optionsObject({
  port: integerOption({ min: 0, max: 65_535 }),
  host: nonEmptyString,
  historySize: positiveInteger,
  registry: customOption<unknown>('a prom-client Registry', (value) => value),
  readinessIntervals: positiveInteger,
})

const contextOptions = optionsObject({
  appName: required(nonEmptyString),
  batchInterval: required(durationMs()),
  checkpoint: stringOption({ expected: 'a directory path' }),
  checkpointRetain: positiveInteger,
  stopOnSignals: booleanOption,
  stopTimeout: integerOption({ min: 0, max: MAX_TIMER_MS, unit: 'milliseconds' }),
  taskConcurrency: positiveInteger,
  maxTaskAttempts: positiveInteger,
  logger: loggerOption,
  clock: clockOption,
  ui: customOption<boolean | object>(uiExpected, (value, path) => {
    if (typeof value === 'boolean') return value
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return uiObject.parse(value, path)
    throw invalidOption(path, `must be ${uiExpected}, got ${describeReceived(value)}`)
  }),
})

export function resolveContextOptions(options: StreamingContextOptions): ResolvedContextOptions {
  const given = parseOptions(contextOptions, options, 'new StreamingContext')
  const { appName, logger, ui, ...rest } = given
  return {
    ...CONTEXT_DEFAULTS,
    checkpoint: undefined,
    taskConcurrency: undefined,
    maxTaskAttempts: undefined,
    ...rest,
    appName,
    logger: adaptLogger(logger).child({ app: appName }),
    ui: ui === undefined || ui === false ? undefined : (ui as Exclude<UiOptions, false>),
  }
}

/** How `StreamingContext.stop` stops the stream. */
export interface StopOptions {
  /**
   * true (default): the running batch finishes and commits first (within `stopTimeout`).
   * false: it is abandoned uncommitted, and a restart re-runs it with the same ranges.
   */
  readonly graceful?: boolean
}

const stopOptions = optionsObject({ graceful: booleanOption })

/** Checks `stop()`'s options; true when the stop is graceful. */
export function isGracefulStop(options: StopOptions | undefined): boolean {
  return parseOptions(stopOptions, options ?? {}, 'StreamingContext.stop').graceful ?? true
}
