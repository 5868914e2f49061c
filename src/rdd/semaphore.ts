/**
 * A FIFO counting semaphore with abortable waits. The task runner uses one per runner to cap
 * how many tasks run at once across all of its jobs.
 */
export type Release = () => void

/** Called with a permit's release function when the permit is handed over. */
type Waiter = (release: Release) => void

export class Semaphore {
  #available: number
  readonly #waiters: Waiter[] = []

  constructor(permits: number) {
    this.#available = permits
  }

  /** Permits not held right now. */
  get available(): number {
    return this.#available
  }

  /**
   * Resolves with a release function once a permit is free; rejects with the signal's reason
   * if the signal aborts first (the permit is then never taken).
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#available > 0 && this.#waiters.length === 0) {
      this.#available--
      return Promise.resolve(this.#releaseOnce())
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter)
        if (index >= 0) this.#waiters.splice(index, 1)
        reject(signal?.reason)
      }
      const waiter: Waiter = (release) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(release)
      }
      this.#waiters.push(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** A release that hands the permit straight to the next waiter; calling it twice is harmless. */
  #releaseOnce(): Release {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiters.shift()
      if (next === undefined) this.#available++
      else next(this.#releaseOnce())
    }
  }
}
