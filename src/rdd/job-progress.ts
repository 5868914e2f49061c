import { AsyncLocalStorage } from 'node:async_hooks'
import type { Logger } from '../core/logger.ts'

/** How far an action has got, as its `onProgress` listener hears it. */
export interface JobProgress {
  /** Tasks known so far: the action's own, plus those of each shuffle stage once it starts. */
  readonly tasksTotal: number
  /** Tasks finished (successfully) so far. */
  readonly tasksDone: number
  /**
   * Records read from Kafka by the action's tasks so far. A retried task reads its range
   * again, and those records count again: this measures work done, not the data's size.
   */
  readonly recordsRead: number
  /** ms since the action started. */
  readonly elapsedMs: number
  /** True in the last report, once the action succeeded. */
  readonly done: boolean
}

/** Hears an action's progress: pass one as the action's `onProgress`. */
export type JobProgressListener = (progress: JobProgress) => void

/** Reports for records read come at most this often; task completions always report. */
const recordReportIntervalMs = 100

/**
 * The progress of one action. The job that asked for it and every job it runs on the way
 * (shuffle stages, actions inside tasks) report into it, through an AsyncLocalStorage scope,
 * so nothing needs to pass it along.
 */
export class JobProgressTracker {
  readonly #listener: JobProgressListener
  readonly #logger: Logger
  readonly #started = performance.now()
  #tasksTotal = 0
  #tasksDone = 0
  #recordsRead = 0
  #lastReport = 0

  #listening = true

  constructor(listener: JobProgressListener, logger: Logger) {
    this.#listener = listener
    this.#logger = logger
  }

  addTasks(count: number): void {
    this.#tasksTotal += count
    this.#report(false)
  }

  taskDone(): void {
    this.#tasksDone++
    this.#report(false)
  }

  recordsRead(count: number): void {
    this.#recordsRead += count
    if (performance.now() - this.#lastReport >= recordReportIntervalMs) this.#report(false)
  }

  finish(): void {
    this.#report(true)
  }

  #report(done: boolean): void {
    this.#lastReport = performance.now()
    if (!this.#listening) return
    try {
      this.#listener({
        tasksTotal: this.#tasksTotal,
        tasksDone: this.#tasksDone,
        recordsRead: this.#recordsRead,
        elapsedMs: Math.round(this.#lastReport - this.#started),
        done,
      })
    } catch (error) {
      // A broken progress display must not fail the action; it is told once and dropped.
      this.#listening = false
      this.#logger.warn('an onProgress listener threw; it gets no more reports', { error })
    }
  }
}

const currentTracker = new AsyncLocalStorage<JobProgressTracker>()

/** The tracker of the action the current code runs for, if that action asked for progress. */
export function currentJobProgress(): JobProgressTracker | undefined {
  return currentTracker.getStore()
}

/** Runs `fn` with `tracker` as the current action's progress. */
export function withJobProgress<R>(tracker: JobProgressTracker, fn: () => R): R {
  return currentTracker.run(tracker, fn)
}
