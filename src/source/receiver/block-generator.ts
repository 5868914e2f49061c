import type { SluiceError } from '../../core/errors.ts'
import type { ConsumedRecord } from '../../kafka/group-consumer.ts'
import { BlockBuilder, type EncodedBlock } from './block-codec.ts'

export interface BlockGeneratorOptions {
  readonly blockIntervalMs: number
  /** Blocks cut but not yet stored, at most; past it the receiver is asked to stop reading. */
  readonly queueSize: number
  /** Block times: the context's clock, so that batches (timed by the same clock) take the right blocks. */
  readonly now: () => number
  readonly receiverId: string
  readonly firstBlockId: number
  /** Stores a block (and reports and commits it); blocks are pushed one at a time, in order. */
  readonly push: (block: EncodedBlock) => Promise<void>
  /** A push failed: the generator stops pushing; what is queued is dropped (its offsets were never committed). */
  readonly onPushFailed: (error: SluiceError | Error) => void
  /** The queue of blocks to push is full (true) or has room again (false). */
  readonly onQueueFull: (full: boolean) => void
}

/**
 * Turns the stream of received records into blocks (Spark's BlockGenerator): records go into
 * the current buffer as they arrive; every `blockIntervalMs` the buffer becomes a block with
 * the next id and joins the queue of blocks to push; a single pusher stores them one after
 * the other. When storing falls behind (a slow disk under the write-ahead log) and the
 * queue fills, the receiver is told to stop reading rather than buffer without bound.
 */
export class BlockGenerator {
  readonly #options: BlockGeneratorOptions
  readonly #builder = new BlockBuilder()
  readonly #queue: EncodedBlock[] = []
  #nextId: number
  #timer: NodeJS.Timeout | undefined
  #pushing: Promise<void> | undefined
  #failed = false
  #full = false
  /** A batch of this time has taken its blocks: later blocks are stamped after it. */
  #sealedThrough = Number.NEGATIVE_INFINITY
  readonly #waiters: { readonly time: number; readonly resolve: () => void }[] = []

  constructor(options: BlockGeneratorOptions) {
    this.#options = options
    this.#nextId = options.firstBlockId
  }

  /** The id the next block gets. */
  get nextBlockId(): number {
    return this.#nextId
  }

  /** Records in the current buffer, and blocks waiting to be pushed. */
  get backlog(): { readonly records: number; readonly blocks: number } {
    return { records: this.#builder.records, blocks: this.#queue.length }
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => this.#cut(), this.#options.blockIntervalMs)
  }

  add(record: ConsumedRecord): void {
    this.#builder.add(record)
  }

  /**
   * A batch of `time` is about to take its blocks: no block cut from now on is stamped at or
   * before it. Resolves once no block stamped at or before `time` waits to be pushed (at once
   * after a push failed).
   */
  sealThrough(time: number): Promise<void> {
    if (time > this.#sealedThrough) this.#sealedThrough = time
    if (this.#pushedThrough(time)) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ time, resolve }))
  }

  /** Stops cutting on the timer, cuts what the buffer holds, and waits until every queued block is pushed. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#cut()
    while (this.#pushing !== undefined) await this.#pushing
  }

  #cut(): void {
    if (this.#failed || this.#builder.records === 0) return
    const time = Math.max(this.#options.now(), this.#sealedThrough + 1)
    const encoded = this.#builder.build(this.#nextId++, this.#options.receiverId, time)
    this.#queue.push(encoded)
    if (!this.#full && this.#queue.length >= this.#options.queueSize) {
      this.#full = true
      this.#options.onQueueFull(true)
    }
    this.#pushing ??= this.#pushAll()
  }

  #pushedThrough(time: number): boolean {
    return this.#failed || this.#queue.every((queued) => queued.block.time > time)
  }

  #wake(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!
      if (!this.#pushedThrough(waiter.time)) continue
      this.#waiters.splice(i, 1)
      waiter.resolve()
    }
  }

  async #pushAll(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        const block = this.#queue[0]!
        try {
          await this.#options.push(block)
        } catch (error) {
          this.#failed = true
          this.#queue.length = 0
          this.#wake()
          this.#options.onPushFailed(error as Error)
          return
        }
        this.#queue.shift()
        this.#wake()
        if (this.#full && this.#queue.length < this.#options.queueSize) {
          this.#full = false
          this.#options.onQueueFull(false)
        }
      }
    } finally {
      this.#pushing = undefined
    }
  }
}
