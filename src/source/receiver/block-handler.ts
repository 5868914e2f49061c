import type { EncodedBlock } from './block-codec.ts'
import { decodeBlockHeader } from './block-codec.ts'
import type { ReceivedBlock } from './received-block.ts'
import type { LostBlock, WalDamageLedger } from './wal-damage.ts'
import type { WriteAheadLog } from './write-ahead-log.ts'

/**
 * Where received blocks are kept until their batch reads them (Spark's ReceivedBlockHandler).
 * Both kinds keep every block in memory, which is what a batch normally reads; the
 * write-ahead-log kind also appends it to the received-data log first, so that a block
 * survives the process and a batch after a restart reads it from there.
 */
export interface ReceivedBlockHandler {
  /** Stores a block; resolves with its description once it is stored as this kind promises. */
  store(encoded: EncodedBlock): Promise<ReceivedBlock>
  /** The block's bytes, from memory or from the log; undefined when neither has it (lost with a process). */
  read(block: ReceivedBlock): Promise<Buffer | undefined>
  /** Frees the blocks no batch will read again: `released` from memory, log segments below `lowestNeededBlockId`. */
  cleanup(released: readonly number[], lowestNeededBlockId: number): Promise<string[]>
  /** Blocks and bytes held in memory now. */
  readonly memory: { readonly blocks: number; readonly bytes: number }
  /** Bytes appended to the log since start (0 without one). */
  readonly bytesLogged: number
  close(): Promise<void>
}

/** Blocks held in memory by id. */
class MemoryBlockStore {
  readonly #blocks = new Map<number, Buffer>()
  #bytes = 0

  put(id: number, bytes: Buffer): void {
    this.remove(id)
    this.#blocks.set(id, bytes)
    this.#bytes += bytes.length
  }

  get(id: number): Buffer | undefined {
    return this.#blocks.get(id)
  }

  remove(id: number): void {
    const bytes = this.#blocks.get(id)
    if (bytes === undefined) return
    this.#blocks.delete(id)
    this.#bytes -= bytes.length
  }

  get usage(): { blocks: number; bytes: number } {
    return { blocks: this.#blocks.size, bytes: this.#bytes }
  }
}

/**
 * Memory only (Spark's BlockManagerBasedBlockHandler): a block lives as long as the process.
 * A batch re-run after a crash finds its blocks gone.
 */
export class MemoryBlockHandler implements ReceivedBlockHandler {
  readonly #memory = new MemoryBlockStore()
  readonly bytesLogged = 0

  async store(encoded: EncodedBlock): Promise<ReceivedBlock> {
    this.#memory.put(encoded.block.id, encoded.bytes)
    return encoded.block
  }

  async read(block: ReceivedBlock): Promise<Buffer | undefined> {
    return this.#memory.get(block.id)
  }

  async cleanup(released: readonly number[]): Promise<string[]> {
    for (const id of released) this.#memory.remove(id)
    return []
  }

  get memory() {
    return this.#memory.usage
  }

  async close(): Promise<void> {}
}

/**
 * Memory and the received-data write-ahead log (Spark's WriteAheadLogBasedBlockHandler): a
 * block is appended and fsynced before `store` resolves, and only then may its offsets be
 * committed to the group. After a restart, blocks are read from the log; damage found when
 * the log is opened goes to the damage ledger.
 */
export class WalBlockHandler implements ReceivedBlockHandler {
  readonly #log: WriteAheadLog
  readonly #memory = new MemoryBlockStore()
  /** Per segment, the highest block id in it: a segment goes once every block in it is no longer needed. */
  readonly #segmentMax = new Map<string, number>()
  readonly #lost: ReadonlyMap<number, LostBlock>

  private constructor(log: WriteAheadLog, lost: ReadonlyMap<number, LostBlock>) {
    this.#log = log
    this.#lost = lost
  }

  /**
   * Opens the received-data log: scans every segment (checksums included), checks that each
   * block in `needed` — blocks a batch has yet to read — is there intact, and reports
   * damage to `damage`. Returns the handler and the highest block id the log holds.
   */
  static async open(
    log: WriteAheadLog,
    needed: readonly ReceivedBlock[],
    damage: WalDamageLedger,
  ): Promise<{ handler: WalBlockHandler; highestBlockId: number }> {
    const neededBySegment = new Map<string, ReceivedBlock[]>()
    for (const block of needed) {
      if (block.wal === undefined) continue
      const list = neededBySegment.get(block.wal.segment) ?? []
      list.push(block)
      neededBySegment.set(block.wal.segment, list)
    }
    const segmentMax = new Map<string, number>()
    const lost: LostBlock[] = []
    let highestBlockId = -1
    const segments = await log.segments()
    for (const segment of segments) {
      const scan = await log.scan(segment)
      const frames = new Map<number, number>()
      let maxId = -1
      for (const frame of scan.frames) {
        frames.set(frame.offset, frame.length)
        maxId = Math.max(maxId, decodeBlockHeader(frame.payload).id)
      }
      segmentMax.set(segment, maxId)
      highestBlockId = Math.max(highestBlockId, maxId)
      const wanted = neededBySegment.get(segment) ?? []
      const unreadable = wanted.filter((b) => frames.get(b.wal!.offset) !== b.wal!.length)
      const file = log.pathOf(segment)
      if (scan.damage) {
        const hit = unreadable.filter((b) => b.wal!.offset >= scan.damage!.offset)
        if (hit.length === 0) await damage.cutOff(log, segment, scan.damage)
      }
      for (const block of unreadable) {
        const problem =
          scan.damage && block.wal!.offset >= scan.damage.offset
            ? `the segment ${scan.damage.problem} at byte ${scan.damage.offset}`
            : 'no frame of that length starts there'
        lost.push({ block, file, offset: block.wal!.offset, problem })
      }
    }
    const present = new Set(segments)
    for (const [segment, blocks] of neededBySegment) {
      if (present.has(segment)) continue
      for (const block of blocks) {
        lost.push({
          block,
          file: log.pathOf(segment),
          offset: block.wal!.offset,
          problem: 'the segment file is missing',
        })
      }
    }
    damage.dataBlocks(lost)
    const handler = new WalBlockHandler(log, damage.lostBlocks)
    for (const [segment, max] of segmentMax) handler.#segmentMax.set(segment, max)
    return { handler, highestBlockId }
  }

  async store(encoded: EncodedBlock): Promise<ReceivedBlock> {
    const wal = await this.#log.append(encoded.bytes)
    this.#segmentMax.set(wal.segment, Math.max(this.#segmentMax.get(wal.segment) ?? -1, encoded.block.id))
    this.#memory.put(encoded.block.id, encoded.bytes)
    return { ...encoded.block, wal }
  }

  async read(block: ReceivedBlock): Promise<Buffer | undefined> {
    const inMemory = this.#memory.get(block.id)
    if (inMemory !== undefined) return inMemory
    if (block.wal === undefined || this.#lost.has(block.id)) return undefined
    return this.#log.read(block.wal)
  }

  async cleanup(released: readonly number[], lowestNeededBlockId: number): Promise<string[]> {
    for (const id of released) this.#memory.remove(id)
    const obsolete = [...this.#segmentMax]
      .filter(([, max]) => max < lowestNeededBlockId)
      .map(([name]) => name)
    const deleted = await this.#log.delete(obsolete)
    for (const name of deleted) this.#segmentMax.delete(name)
    return deleted
  }

  get memory() {
    return this.#memory.usage
  }

  get bytesLogged(): number {
    return this.#log.bytesWritten
  }

  async close(): Promise<void> {
    await this.#log.close()
  }
}
