/**
 * What a running task knows about itself. A task is identified by (jobId, nodeId, partition)
 * rather than by a closure, so a later runner can ship tasks to worker threads without an
 * API change.
 */
export interface TaskContext {
  /** Unique per action run (every `runJob` call gets a new one). */
  readonly jobId: number
  /**
   * Id of the Rdd whose partition the job computes (the job's root). Parents computed on the
   * way see the same context, as in Spark: `partition` is the root's partition too.
   */
  readonly nodeId: number
  readonly partition: number
  /** 1-based; a retried task starts again from scratch with attempt + 1. */
  readonly attempt: number
  /** Aborted when the job fails or is cancelled; long reads should stop when it fires. */
  readonly signal: AbortSignal
}
