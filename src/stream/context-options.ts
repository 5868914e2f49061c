import { createLogger, type Logger } from '../core/logger.ts'
import {
  booleanOption,
  durationMs,
  loggerOption,
  nonEmptyString,
  optionsObject,
  parseOptions,
  positiveInteger,
  required,
  stringOption,
} from '../core/options.ts'

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
  /** SIGINT/SIGTERM stop the stream gracefully (a second signal forces the stop). Default false. */
  readonly stopOnSignals?: boolean
  /** Partition tasks running at once (each holds up to two fetches). Default 4. */
  readonly taskConcurrency?: number
  /** Attempts per task before a batch fails. Default 4. */
  readonly maxTaskAttempts?: number
  readonly logger?: Logger
}

export interface ResolvedContextOptions {
  readonly appName: string
  readonly batchInterval: number
  readonly checkpoint: string | undefined
  readonly checkpointRetain: number
  readonly stopOnSignals: boolean
  readonly taskConcurrency: number | undefined
  readonly maxTaskAttempts: number | undefined
  readonly logger: Logger
}

const CONTEXT_DEFAULTS = {
  checkpointRetain: 100,
  stopOnSignals: false,
}

const contextOptions = optionsObject({
  appName: required(nonEmptyString),
  batchInterval: required(durationMs()),
  checkpoint: stringOption({ expected: 'a directory path' }),
  checkpointRetain: positiveInteger,
  stopOnSignals: booleanOption,
  taskConcurrency: positiveInteger,
  maxTaskAttempts: positiveInteger,
  logger: loggerOption,
})

export function resolveContextOptions(options: StreamingContextOptions): ResolvedContextOptions {
  const given = parseOptions(contextOptions, options, 'new StreamingContext')
  const { appName, logger, ...rest } = given
  return {
    ...CONTEXT_DEFAULTS,
    checkpoint: undefined,
    taskConcurrency: undefined,
    maxTaskAttempts: undefined,
    ...rest,
    appName,
    logger: (logger ?? createLogger()).child({ app: appName }),
  }
}

/** How `StreamingContext.stop` stops the stream. */
export interface StopOptions {
  /**
   * true (default): the running batch finishes and commits first. false: it is abandoned
   * uncommitted, and a restart re-runs it with the same ranges.
   */
  readonly graceful?: boolean
}

const stopOptions = optionsObject({ graceful: booleanOption })

/** Checks `stop()`'s options; true when the stop is graceful. */
export function isGracefulStop(options: StopOptions | undefined): boolean {
  return parseOptions(stopOptions, options ?? {}, 'StreamingContext.stop').graceful ?? true
}
