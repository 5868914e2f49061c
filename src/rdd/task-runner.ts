import { AsyncLocalStorage } from 'node:async_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import {
  functionOption,
  loggerOption,
  MAX_TIMER_MS,
  numberOption,
  optionsObject,
  parseOptions,
  positiveInteger,
  signalOption,
} from '../core/options.ts'
import { withEventLoopTurns } from './event-loop-turns.ts'
import {
  currentJobProgress,
  type JobProgressListener,
  JobProgressTracker,
  withJobProgress,
} from './job-progress.ts'
import type { Rdd } from './rdd.ts'
import { Semaphore } from './semaphore.ts'
import type { TaskContext } from './task-context.ts'
import { isDeterministicFailure, taskFailedError } from './task-failure.ts'

export interface TaskRunnerOptions {
  /** Most tasks running at once, across every job of this runner. Default 4: a reading task keeps a fetch in flight while it works, so 4 tasks keep 8 fetches going, which saturates a 2-core machine while holding memory low. */
  concurrency?: number
  /** Attempts per task before the job fails (Spark's spark.task.maxFailures). Default 4. */
  maxAttempts?: number
  /** Pause before retry n is `retryBackoffMs * n` milliseconds. Default 50. */
  retryBackoffMs?: number
  /** Receives a warning for every retried task. */
  logger?: Logger
}

export interface RunJobOptions {
  /** Cancels the job: running tasks see their signal abort and the job rejects with the reason. */
  readonly signal?: AbortSignal
  /** Hears tasks done/total and records read while the job and the stages it needs run. */
  readonly onProgress?: JobProgressListener
}

/** The work done on one partition: consume its chunks, return the partition's result. */
export type PartitionTask<T, R> = (chunks: AsyncIterable<readonly T[]>, ctx: TaskContext) => Promise<R> | R

export const DEFAULT_CONCURRENCY = 4
export const DEFAULT_MAX_ATTEMPTS = 4
export const DEFAULT_RETRY_BACKOFF_MS = 50

let nextJobId = 1

const taskRunnerOptions = optionsObject({
  concurrency: positiveInteger,
  maxAttempts: positiveInteger,
  retryBackoffMs: numberOption({ min: 0, max: MAX_TIMER_MS, unit: 'milliseconds' }),
  logger: loggerOption,
})

/** Options of an action (`collect`, `count`...), checked by the job that runs it. */
export const runJobOptions = optionsObject({
  signal: signalOption,
  onProgress: functionOption<JobProgressListener>(),
})

/** The runner whose task the current async context runs inside, if any. */
const runningTaskOf = new AsyncLocalStorage<TaskRunner>()

/**
 * Runs jobs: one task per requested partition, at most `concurrency` at once, each retried
 * from scratch (a fresh `computeChunks` call) until it succeeds or runs out of attempts.
 * Between chunks a task hands the event loop a turn when it has had none for a while, so
 * timers and I/O keep running during long CPU-bound jobs (event-loop-turns.ts).
 */
export class TaskRunner {
  readonly concurrency: number
  readonly maxAttempts: number
  readonly retryBackoffMs: number
  readonly #logger: Logger
  readonly #slots: Semaphore

  constructor(options: TaskRunnerOptions = {}) {
    const given = parseOptions(taskRunnerOptions, options, 'TaskRunner')
    this.concurrency = given.concurrency ?? DEFAULT_CONCURRENCY
    this.maxAttempts = given.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    this.retryBackoffMs = given.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS
    this.#logger = given.logger ?? createLogger({ bindings: { component: 'task-runner' } })
    this.#slots = new Semaphore(this.concurrency)
  }

  /**
   * Computes `partitions` of `rdd` with `task` and returns the results in the order of
   * `partitions`. The first task that fails for good aborts the others and rejects the job
   * with a TASK_FAILED SluiceError whose `cause` is the task's last error.
   */
  async runJob<T, R>(
    rdd: Rdd<T>,
    partitions: readonly number[],
    task: PartitionTask<T, R>,
    options: RunJobOptions = {},
  ): Promise<R[]> {
    const { signal, onProgress } = parseOptions(runJobOptions, options, 'action')
    if (onProgress === undefined) return this.#runJob(rdd, partitions, task, signal)
    // This job reports progress; the stage jobs it runs report into the same tracker.
    const tracker = new JobProgressTracker(onProgress, this.#logger)
    const results = await withJobProgress(tracker, () => this.#runJob(rdd, partitions, task, signal))
    tracker.finish()
    return results
  }

  async #runJob<T, R>(
    rdd: Rdd<T>,
    partitions: readonly number[],
    task: PartitionTask<T, R>,
    outer: AbortSignal | undefined,
  ): Promise<R[]> {
    checkPartitions(rdd, partitions)
    outer?.throwIfAborted()
    const progress = currentJobProgress()
    progress?.addTasks(partitions.length)
    // Shuffle map stages run before this job takes any slot: a reduce task holding a slot while
    // it waits for map tasks that need slots could deadlock a full pool.
    await rdd.prepareStages(outer)
    if (partitions.length === 0) return []

    const jobId = nextJobId++
    const job = new AbortController()
    const forwardAbort = () => job.abort(outer?.reason)
    outer?.addEventListener('abort', forwardAbort, { once: true })
    // A job started inside one of this runner's tasks (an action inside a task) must not queue
    // for the pool: its caller holds a slot while waiting for it. It gets a limit of its own.
    const slots = runningTaskOf.getStore() === this ? new Semaphore(this.concurrency) : this.#slots
    const results = new Array<R>(partitions.length)
    // Settles only when the job aborts, so a cancelled or failed job rejects at once instead of
    // waiting for tasks that ignore their signal.
    const aborted = new Promise<never>((_, reject) => {
      job.signal.addEventListener('abort', () => reject(job.signal.reason), { once: true })
    })
    aborted.catch(() => {})

    const tasks = partitions.map(async (partition, index) => {
      try {
        const release = await slots.acquire(job.signal)
        try {
          results[index] = await this.#runTask(rdd, partition, task, jobId, job.signal)
          progress?.taskDone()
        } finally {
          release()
        }
      } catch (error) {
        job.abort(error) // the first failure wins; aborting again is a no-op
        throw error
      }
    })
    try {
      await Promise.race([Promise.all(tasks), aborted])
      return results
    } finally {
      outer?.removeEventListener('abort', forwardAbort)
    }
  }

  async #runTask<T, R>(
    rdd: Rdd<T>,
    partition: number,
    task: PartitionTask<T, R>,
    jobId: number,
    signal: AbortSignal,
  ): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted()
      const ctx: TaskContext = { jobId, nodeId: rdd.id, partition, attempt, signal }
      try {
        return await runningTaskOf.run(this, () =>
          task(withEventLoopTurns(rdd.computeChunks(partition, ctx)), ctx),
        )
      } catch (error) {
        // Once the job is failing or cancelled, errors are echoes of the abort, not new failures.
        signal.throwIfAborted()
        if (isDeterministicFailure(error) || attempt >= this.maxAttempts) {
          throw taskFailedError(
            {
              rdd: String(rdd),
              partitionDescription: rdd.describePartition(partition),
              jobId,
              nodeId: rdd.id,
              partition,
              attempts: attempt,
            },
            error,
          )
        }
        this.#logger.warn('task failed, retrying', {
          rdd: String(rdd),
          jobId,
          nodeId: rdd.id,
          partition,
          attempt,
          error,
        })
        if (this.retryBackoffMs > 0) await sleep(this.retryBackoffMs * attempt, undefined, { signal })
      }
    }
  }
}

function checkPartitions(rdd: Rdd<unknown>, partitions: readonly number[]): void {
  for (const partition of partitions) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= rdd.numPartitions) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `${rdd} has no partition ${describeValue(partition)} (it has ${rdd.numPartitions})`,
        { details: { rdd: String(rdd), partition, numPartitions: rdd.numPartitions } },
      )
    }
  }
}

/** Shared by every root RDD built without a runner of its own, and so by everything derived from one. */
export const defaultTaskRunner: TaskRunner = new TaskRunner()
