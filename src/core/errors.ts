/**
 * Every error sluice throws is a SluiceError with a stable, machine-readable `code` and a
 * `retriable` flag: callers branch on the code, never on the message text.
 */
export const ErrorCodes = {
  /** An option passed to a constructor or factory is invalid; the message names it. */
  INVALID_OPTION: 'SLUICE_INVALID_OPTION',
  /** An argument to a method is invalid (for example a malformed offset range). */
  INVALID_ARGUMENT: 'SLUICE_INVALID_ARGUMENT',
  /** A requested offset range lies outside what the partition holds. */
  OFFSET_OUT_OF_RANGE: 'SLUICE_OFFSET_OUT_OF_RANGE',
  /** A topic or partition does not exist. */
  UNKNOWN_TOPIC_OR_PARTITION: 'SLUICE_UNKNOWN_TOPIC_OR_PARTITION',
  /** The Kafka cluster answered with an error or could not be reached. */
  KAFKA: 'SLUICE_KAFKA',
  /** The Kafka cluster refused the SASL credentials (wrong user, password or mechanism). */
  KAFKA_AUTHENTICATION: 'SLUICE_KAFKA_AUTHENTICATION',
  /** The TLS handshake with a broker failed: its certificate is not trusted or does not match its address. */
  KAFKA_TLS: 'SLUICE_KAFKA_TLS',
  /** A record's key, value or header could not be deserialized. */
  DESERIALIZATION: 'SLUICE_DESERIALIZATION',
  /** A fetched record batch does not match its CRC-32C, even when fetched again. */
  CORRUPT_RECORD_BATCH: 'SLUICE_CORRUPT_RECORD_BATCH',
  /** A partition task failed after all its attempts. */
  TASK_FAILED: 'SLUICE_TASK_FAILED',
  /** A streaming batch failed; the stream stopped without committing it. */
  BATCH_FAILED: 'SLUICE_BATCH_FAILED',
  /** The checkpoint directory is unusable (other app, unknown version, corrupt). */
  CHECKPOINT: 'SLUICE_CHECKPOINT',
  /** Another live process holds the checkpoint directory. */
  CHECKPOINT_LOCKED: 'SLUICE_CHECKPOINT_LOCKED',
  /** Saved state could not be read back. */
  STATE: 'SLUICE_STATE',
  /** A sink found its stored offsets out of line with the batch (gap or overlap). */
  SINK_OFFSET_MISMATCH: 'SLUICE_SINK_OFFSET_MISMATCH',
  /** A sink failed to write a batch. */
  SINK: 'SLUICE_SINK',
  /** Offsets a tool was asked to move are in use: a job is writing them right now. */
  OFFSETS_IN_USE: 'SLUICE_OFFSETS_IN_USE',
  /** Another instance of the same application took over (zombie fencing). */
  FENCED: 'SLUICE_FENCED',
  /**
   * A batch found partitions its process no longer owns (a consumer group rebalance, a newer
   * owner generation); it was rolled back and the stream goes on without them.
   */
  PARTITIONS_REVOKED: 'SLUICE_PARTITIONS_REVOKED',
  /** The object was used after it was stopped or closed. */
  CLOSED: 'SLUICE_CLOSED',
  /** User code in a Python worker or the Python driver raised; the message carries its traceback. */
  PYTHON: 'SLUICE_PYTHON',
  /** A Python worker process died while it ran a task (the task is retried on another worker). */
  PYTHON_WORKER_LOST: 'SLUICE_PYTHON_WORKER_LOST',
  /** The Python driver or the engine broke the protocol between them, or went away. */
  PYTHON_CHANNEL: 'SLUICE_PYTHON_CHANNEL',
  /** The job's UI and metrics server could not start (port in use, unknown host). */
  UI_SERVER: 'SLUICE_UI_SERVER',
  /** The local development broker could not be prepared, started or stopped. */
  LOCAL_KAFKA: 'SLUICE_LOCAL_KAFKA',
  /** The private PostgreSQL server for tests could not be found, started or stopped. */
  LOCAL_POSTGRES: 'SLUICE_LOCAL_POSTGRES',
  /** sluice was loaded by a Node.js older than it supports (see package.json's `engines`). */
  UNSUPPORTED_RUNTIME: 'SLUICE_UNSUPPORTED_RUNTIME',
} as const

/** One of the codes in `ErrorCodes`: the stable, machine-readable kind of a SluiceError. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** A SluiceError's optional parts. */
export interface SluiceErrorOptions {
  retriable?: boolean
  cause?: unknown
  /** Structured context (topic, partition, offsets, option name...) for logs and callers. */
  details?: Record<string, unknown>
}

/** The error sluice throws: a stable `code` (see ErrorCodes), a `retriable` flag and structured `details` (option, topic, partition, offsets...). */
export class SluiceError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SluiceError'
    this.code = code
    this.retriable = options.retriable ?? false
    this.details = options.details ?? {}
  }
}

/** An invalid option: the message always starts with the option's path so users can find it. */
export function invalidOption(
  option: string,
  problem: string,
  details: Record<string, unknown> = {},
): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_OPTION, `option '${option}' ${problem}`, {
    details: { option, ...details },
  })
}

/** True when `error` is a SluiceError, with `code` when one is given. */
export function isSluiceError(error: unknown, code?: ErrorCode): error is SluiceError {
  return error instanceof SluiceError && (code === undefined || error.code === code)
}

/** Message of any thrown value, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
