import { describeValue } from '../core/describe-value.ts'
import { invalidOption } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
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
    }

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
   * uncommitted (a restart re-runs it); 0 waits as long as the batch takes. Default 20,000: inside the 30 s a container runtime or systemd usually allows before SIGKILL.
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

export const DEFAULT_STOP_TIMEOUT_MS = 20_000

export function resolveContextOptions(options: StreamingContextOptions): ResolvedContextOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'must be an object')
  const {
    appName,
    batchInterval,
    checkpoint,
    checkpointRetain = 100,
    stopOnSignals = true,
    stopTimeout = DEFAULT_STOP_TIMEOUT_MS,
    clock = systemClock,
    ui,
  } = options
  if (typeof appName !== 'string' || appName.trim() === '') {
    throw invalidOption('appName', `must be a non-empty string, got ${JSON.stringify(appName)}`)
  }
  if (typeof batchInterval !== 'number' || !Number.isInteger(batchInterval) || batchInterval < 1) {
    throw invalidOption(
      'batchInterval',
      `must be a positive integer number of milliseconds, got ${String(batchInterval)}`,
    )
  }
  if (checkpoint !== undefined && (typeof checkpoint !== 'string' || checkpoint === '')) {
    throw invalidOption('checkpoint', `must be a directory path, got ${JSON.stringify(checkpoint)}`)
  }
  if (!Number.isInteger(checkpointRetain) || checkpointRetain < 1) {
    throw invalidOption('checkpointRetain', `must be a positive integer, got ${String(checkpointRetain)}`)
  }
  if (typeof stopOnSignals !== 'boolean') {
    throw invalidOption('stopOnSignals', `must be a boolean, got ${JSON.stringify(stopOnSignals)}`)
  }
  if (!Number.isSafeInteger(stopTimeout) || stopTimeout < 0) {
    throw invalidOption(
      'stopTimeout',
      `must be a non-negative integer number of milliseconds, got ${describeValue(stopTimeout)}`,
    )
  }
  if (!isClock(clock)) {
    throw invalidOption('clock', `must have now() and waitUntil(time, signal), got ${describeValue(clock)}`)
  }
  if (
    ui !== undefined &&
    typeof ui !== 'boolean' &&
    (ui === null || typeof ui !== 'object' || Array.isArray(ui))
  ) {
    throw invalidOption(
      'ui',
      `must be true, false or { port, host, historySize, registry }, got ${describeValue(ui)}`,
    )
  }
  return {
    appName,
    batchInterval,
    checkpoint,
    checkpointRetain,
    stopOnSignals,
    stopTimeout,
    taskConcurrency: options.taskConcurrency,
    maxTaskAttempts: options.maxTaskAttempts,
    logger: adaptLogger(options.logger).child({ app: appName }),
    clock,
    ui: ui === undefined || ui === false ? undefined : ui,
  }
}
