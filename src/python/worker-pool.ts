import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { PythonWorker, type WorkerSettings } from './python-worker.ts'

/**
 * The job's Python workers, started on first use and reused by every task. At most `size`
 * tasks hold workers at once; a task waits for a free one. A worker that dies is dropped
 * (its task fails and is retried by the task runner) and a new one starts when needed.
 *
 * A task may need a second worker while it holds one: a Python stage whose input is another
 * Python stage's output within the same task (a union, a window). Such a nested acquire
 * never waits — waiting could deadlock, every worker held by an outer stage whose input
 * waits for a worker — and may start a worker beyond `size`; extra workers stop when
 * released.
 */
export class WorkerPool {
  readonly size: number
  readonly #settings: WorkerSettings
  readonly #logger: Logger
  readonly #idle: PythonWorker[] = []
  readonly #all = new Set<PythonWorker>()
  readonly #waiters: { resolve: (worker: PythonWorker) => void; reject: (error: unknown) => void }[] = []
  /** Workers held per task (its context object), to tell a nested acquire from a new task. */
  readonly #held = new WeakMap<object, number>()
  #starting = 0
  #closed = false

  constructor(settings: WorkerSettings, size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new SluiceError(
        ErrorCodes.INVALID_OPTION,
        `option 'workers' must be a positive integer, got ${size}`,
      )
    }
    this.size = size
    this.#settings = settings
    this.#logger = settings.logger
  }

  /** Process ids of the live workers (for tests and the benchmark's memory figures). */
  get pids(): number[] {
    return [...this.#all].filter((worker) => worker.alive).map((worker) => worker.pid)
  }

  /** A worker for the task `owner` (its TaskContext); `release` it with the same owner. */
  async acquire(owner: object, signal?: AbortSignal): Promise<PythonWorker> {
    const held = this.#held.get(owner) ?? 0
    const worker = await this.#acquire(held > 0, signal)
    this.#held.set(owner, (this.#held.get(owner) ?? 0) + 1)
    return worker
  }

  async #acquire(nested: boolean, signal?: AbortSignal): Promise<PythonWorker> {
    signal?.throwIfAborted()
    if (this.#closed) throw new SluiceError(ErrorCodes.CLOSED, 'the Python worker pool is closed')
    for (;;) {
      const idle = this.#idle.pop()
      if (idle === undefined) break
      if (idle.alive) return idle
      this.#all.delete(idle)
    }
    if (nested || this.#all.size + this.#starting < this.size) {
      this.#starting++
      try {
        const worker = await PythonWorker.start(this.#settings)
        this.#all.add(worker)
        this.#logger.debug('started a Python worker', { pid: worker.pid })
        return worker
      } finally {
        this.#starting--
      }
    }
    return new Promise<PythonWorker>((resolve, reject) => {
      const waiter = { resolve, reject }
      this.#waiters.push(waiter)
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#waiters.indexOf(waiter)
          if (index >= 0) this.#waiters.splice(index, 1)
          reject(signal.reason)
        },
        { once: true },
      )
    })
  }

  /** Gives a worker back. A dead one is dropped, and a waiting task may start a new one. */
  release(owner: object, worker: PythonWorker): void {
    this.#held.set(owner, Math.max(0, (this.#held.get(owner) ?? 1) - 1))
    if (!worker.alive || this.#closed || (this.#all.size > this.size && this.#waiters.length === 0)) {
      this.#all.delete(worker)
      worker.kill()
      const waiter = this.#waiters.shift()
      if (waiter) this.#acquire(false).then(waiter.resolve, waiter.reject)
      return
    }
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve(worker)
    else this.#idle.push(worker)
  }

  close(): void {
    this.#closed = true
    for (const worker of this.#all) worker.kill()
    this.#all.clear()
    this.#idle.length = 0
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new SluiceError(ErrorCodes.CLOSED, 'the Python worker pool is closed'))
    }
  }
}
