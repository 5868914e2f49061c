import { type ErrorCode, ErrorCodes, isSluiceError, messageOf, SluiceError } from '../core/errors.ts'

/**
 * Failures that would happen again on every attempt: the same bytes fail to deserialize, the
 * same offsets are gone, the same argument is wrong. Retrying them only delays the error.
 */
export const NON_RETRIED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.DESERIALIZATION,
  // The range reader already fetched the batch a second time before failing.
  ErrorCodes.CORRUPT_RECORD_BATCH,
  ErrorCodes.OFFSET_OUT_OF_RANGE,
  ErrorCodes.INVALID_ARGUMENT,
  ErrorCodes.INVALID_OPTION,
])

/** True when a task error must fail the job at once instead of being retried. */
export function isDeterministicFailure(error: unknown): boolean {
  return isSluiceError(error) && NON_RETRIED_CODES.has(error.code)
}

export interface FailedTask {
  /** The RDD (lineage node) the job computes, as named by its `toString()`. */
  readonly rdd: string
  /** Human description of the partition, e.g. `partition 3` or a Kafka topic/partition/range. */
  readonly partitionDescription: string
  readonly jobId: number
  readonly nodeId: number
  readonly partition: number
  readonly attempts: number
}

/** The job-level error: names the node, partition and attempts; `cause` is the last error. */
export function taskFailedError(task: FailedTask, cause: unknown): SluiceError {
  const deterministic = isDeterministicFailure(cause)
  const plural = task.attempts === 1 ? '' : 's'
  const why = deterministic ? ` (${(cause as SluiceError).code} is not retried)` : ''
  return new SluiceError(
    ErrorCodes.TASK_FAILED,
    `${task.rdd} ${task.partitionDescription} failed after ${task.attempts} attempt${plural}${why}: ${messageOf(cause)}`,
    {
      cause,
      // Re-running the job later can help only when the failure was not deterministic.
      retriable: !deterministic,
      details: {
        rdd: task.rdd,
        jobId: task.jobId,
        nodeId: task.nodeId,
        partition: task.partition,
        attempts: task.attempts,
      },
    },
  )
}
