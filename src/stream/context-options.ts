import { invalidOption } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'

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

export function resolveContextOptions(options: StreamingContextOptions): ResolvedContextOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'must be an object')
  const { appName, batchInterval, checkpoint, checkpointRetain = 100, stopOnSignals = false } = options
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
  return {
    appName,
    batchInterval,
    checkpoint,
    checkpointRetain,
    stopOnSignals,
    taskConcurrency: options.taskConcurrency,
    maxTaskAttempts: options.maxTaskAttempts,
    logger: (options.logger ?? createLogger()).child({ app: appName }),
  }
}
