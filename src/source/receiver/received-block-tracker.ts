import { partitionKey } from '../../core/partition-key.ts'
import type { PartitionSpan, ReceivedBlock } from './received-block.ts'
import { decodeTrackerEvent, encodeTrackerEvent, type TrackerEvent } from './tracker-events.ts'
import type { WalDamageLedger } from './wal-damage.ts'
import type { WriteAheadLog } from './write-ahead-log.ts'

/** What one tracker-log segment holds, so it can be deleted once none of it matters. */
interface SegmentContent {
  maxBlockId: number
  maxBatchId: number
}

export interface TrackerRecoveryOptions {
  /** The tracker's own log; undefined without a write-ahead log (then nothing survives a restart). */
  readonly log: WriteAheadLog | undefined
  readonly damage: WalDamageLedger
}

/**
 * The driver's book of received blocks (Spark's ReceivedBlockTracker): blocks are added as
 * the receiver stores them, allocated to batches as batches are planned, and released once
 * no batch will read them again. With a write-ahead log each of these is an event appended
 * (and fsynced) to the tracker's own log before it takes effect, so a restart replays the
 * log and finds every block received but not yet processed.
 *
 * A block stays in the book until it is released *and* its offsets are acknowledged by the
 * consumer group: until then a restart may see Kafka deliver it again, and the book is what
 * predicts those re-deliveries.
 */
export class ReceivedBlockTracker {
  readonly #log: WriteAheadLog | undefined
  readonly #blocks = new Map<number, ReceivedBlock>()
  readonly #released = new Set<number>()
  readonly #allocations = new Map<number, { readonly ids: readonly number[]; readonly through: number }>()
  readonly #committed = new Map<string, bigint>()
  readonly #segments = new Map<string, SegmentContent>()
  #unallocated: ReceivedBlock[] = []
  #allocatedThrough = -1
  #releasedBefore = 0
  #highestBlockId = -1
  #lastReceiver: string | undefined

  private constructor(log: WriteAheadLog | undefined) {
    this.#log = log
  }

  /** A tracker rebuilt from its log (empty without one). Damage in the log goes to `damage`. */
  static async recover(options: TrackerRecoveryOptions): Promise<ReceivedBlockTracker> {
    const tracker = new ReceivedBlockTracker(options.log)
    const log = options.log
    if (log === undefined) return tracker
    for (const segment of await log.segments()) {
      const scan = await log.scan(segment)
      for (const frame of scan.frames) {
        const where = `'${log.pathOf(segment)}' byte ${frame.offset}`
        tracker.#apply(decodeTrackerEvent(frame.payload, where), segment)
      }
      if (scan.damage) await options.damage.trackerLog(log, segment, scan.damage)
    }
    return tracker
  }

  /** The receiver of the run before this one (the last one whose start the log recorded). */
  get lastReceiver(): string | undefined {
    return this.#lastReceiver
  }

  /** Records that a run's receiver starts, before it receives anything. */
  async receiverStarted(receiver: string): Promise<void> {
    await this.#write({ kind: 'receiver-started', receiver })
    this.#lastReceiver = receiver
  }

  /** The highest block id this book has seen (-1: none). */
  get highestBlockId(): number {
    return this.#highestBlockId
  }

  /** Every block up to this id is allocated to a batch (-1: none yet). */
  get allocatedThrough(): number {
    return this.#allocatedThrough
  }

  /** Blocks received and not yet allocated to a batch, oldest first. */
  get unallocated(): readonly ReceivedBlock[] {
    return this.#unallocated
  }

  /** Blocks still needed by a batch to come or a batch not yet released. */
  neededBlocks(): ReceivedBlock[] {
    return [...this.#blocks.values()].filter((b) => !this.#released.has(b.id))
  }

  /** Every block in the book (needed, or released but not yet acknowledged by the group). */
  knownBlocks(): ReceivedBlock[] {
    return [...this.#blocks.values()]
  }

  /**
   * Makes the book agree with the checkpoint after a restart: the newest batch the
   * checkpoint logged allocated every block up to `through`. Allocations the log has past
   * that never reached the checkpoint (a crash between the two writes): their blocks go back
   * to the unallocated queue, and the batch is planned anew.
   */
  alignWithCheckpoint(through: number): void {
    if (this.#allocatedThrough > through) {
      for (const [batchId, allocation] of this.#allocations) {
        if (allocation.through > through) this.#allocations.delete(batchId)
      }
    }
    this.#allocatedThrough = through
    this.#unallocated = [...this.#blocks.values()]
      .filter((b) => b.id > through && !this.#released.has(b.id))
      .sort((a, b) => a.id - b.id)
  }

  /** Records a stored block; with a log, resolves once the addition is durable. */
  async addBlock(block: ReceivedBlock): Promise<void> {
    await this.#write({ kind: 'block-added', block })
    this.#addBlock(block)
  }

  /**
   * Allocates to batch `batchId` every unallocated block cut at or before `upTo` (Spark gives
   * a batch the blocks received up to its time), logging the allocation first.
   */
  async allocate(batchId: number, upTo: number): Promise<ReceivedBlock[]> {
    let count = 0
    while (count < this.#unallocated.length && this.#unallocated[count]!.time <= upTo) count++
    const blocks = this.#unallocated.slice(0, count)
    if (blocks.length === 0) return []
    const through = blocks.at(-1)!.id
    await this.#write({
      kind: 'batch-allocated',
      batchId,
      blockIds: blocks.map((b) => b.id),
      allocatedThrough: through,
    })
    this.#unallocated = this.#unallocated.slice(count)
    this.#allocations.set(batchId, { ids: blocks.map((b) => b.id), through })
    this.#allocatedThrough = through
    return blocks
  }

  /** Notes the blocks a batch of an earlier run took (read back from the checkpoint). */
  noteAllocation(batchId: number, blocks: readonly ReceivedBlock[]): void {
    if (blocks.length === 0 || this.#allocations.has(batchId)) return
    this.#allocations.set(batchId, { ids: blocks.map((b) => b.id), through: blocks.at(-1)!.id })
  }

  /**
   * Batches before `beforeBatchId` will never be read again: their blocks are released.
   * Returns the ids released now (their data may go).
   */
  async release(beforeBatchId: number): Promise<number[]> {
    if (beforeBatchId <= this.#releasedBefore) return []
    const ids: number[] = []
    for (const [batchId, allocation] of this.#allocations) {
      if (batchId < beforeBatchId) for (const id of allocation.ids) if (this.#blocks.has(id)) ids.push(id)
    }
    await this.#write({ kind: 'batches-released', beforeBatchId })
    this.#releaseBefore(beforeBatchId)
    this.#sweep()
    return ids
  }

  /** The consumer group committed these offsets: blocks below them will not be delivered again. */
  acknowledge(offsets: readonly { topic: string; partition: number; offset: bigint }[]): void {
    for (const o of offsets) {
      const key = partitionKey(o.topic, o.partition)
      const known = this.#committed.get(key)
      if (known === undefined || o.offset > known) this.#committed.set(key, o.offset)
    }
    this.#sweep()
  }

  /**
   * Whether the group has acknowledged every offset of `span`. Without a log nothing
   * survives a restart, so there is nothing to predict and every block counts as acknowledged.
   */
  acknowledged(span: PartitionSpan): boolean {
    if (this.#log === undefined) return true
    const committed = this.#committed.get(partitionKey(span.topic, span.partition))
    return committed !== undefined && committed >= span.untilOffset
  }

  /** The lowest id of a block whose data a batch may still read (every block below it can go). */
  lowestNeededBlockId(): number {
    let lowest = this.#highestBlockId + 1
    for (const block of this.#blocks.values())
      if (!this.#released.has(block.id) && block.id < lowest) lowest = block.id
    return lowest
  }

  /** Deletes the tracker-log segments nothing in the book depends on any more. */
  async cleanLog(): Promise<string[]> {
    const log = this.#log
    if (log === undefined) return []
    let lowestKnown = this.#highestBlockId + 1
    for (const id of this.#blocks.keys()) if (id < lowestKnown) lowestKnown = id
    const obsolete = [...this.#segments]
      .filter(([, c]) => c.maxBlockId < lowestKnown && c.maxBatchId < this.#releasedBefore)
      .map(([name]) => name)
    const deleted = await log.delete(obsolete)
    for (const name of deleted) this.#segments.delete(name)
    return deleted
  }

  async #write(event: TrackerEvent): Promise<void> {
    const log = this.#log
    if (log === undefined) return
    const handle = await log.append(encodeTrackerEvent(event))
    this.#noteSegment(handle.segment, event)
  }

  #apply(event: TrackerEvent, segment: string): void {
    this.#noteSegment(segment, event)
    switch (event.kind) {
      case 'block-added':
        this.#addBlock(event.block)
        break
      case 'batch-allocated': {
        this.#allocations.set(event.batchId, { ids: event.blockIds, through: event.allocatedThrough })
        if (event.allocatedThrough > this.#allocatedThrough) this.#allocatedThrough = event.allocatedThrough
        this.#unallocated = this.#unallocated.filter((b) => b.id > this.#allocatedThrough)
        break
      }
      case 'batches-released':
        this.#releaseBefore(event.beforeBatchId)
        break
      case 'receiver-started':
        this.#lastReceiver = event.receiver
        break
    }
  }

  #noteSegment(segment: string, event: TrackerEvent): void {
    const content = this.#segments.get(segment) ?? { maxBlockId: -1, maxBatchId: -1 }
    if (event.kind === 'block-added') content.maxBlockId = Math.max(content.maxBlockId, event.block.id)
    if (event.kind === 'batch-allocated') content.maxBatchId = Math.max(content.maxBatchId, event.batchId)
    this.#segments.set(segment, content)
  }

  #addBlock(block: ReceivedBlock): void {
    this.#blocks.set(block.id, block)
    if (block.id > this.#highestBlockId) this.#highestBlockId = block.id
    if (block.id > this.#allocatedThrough) this.#unallocated.push(block)
  }

  #releaseBefore(beforeBatchId: number): void {
    if (beforeBatchId <= this.#releasedBefore) return
    for (const [batchId, allocation] of this.#allocations) {
      if (batchId >= beforeBatchId) continue
      for (const id of allocation.ids) if (this.#blocks.has(id)) this.#released.add(id)
      this.#allocations.delete(batchId)
    }
    this.#releasedBefore = beforeBatchId
  }

  /** Forgets released blocks the group has acknowledged: nothing will ever ask about them again. */
  #sweep(): void {
    for (const id of this.#released) {
      const block = this.#blocks.get(id)
      if (block === undefined || block.spans.every((span) => this.acknowledged(span))) {
        this.#blocks.delete(id)
        this.#released.delete(id)
      }
    }
  }

  /** For logs: how many blocks are waiting for a batch, and how many the book holds. */
  describe(): { unallocated: number; known: number } {
    return { unallocated: this.#unallocated.length, known: this.#blocks.size }
  }
}
