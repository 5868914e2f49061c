import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import { type ReceivedBlock, spanRanges } from './received-block.ts'
import type { SegmentDamage } from './wal-segment.ts'
import type { WriteAheadLog } from './write-ahead-log.ts'

/**
 * What recovery does with a damaged write-ahead log: refuse to start (default), or go on
 * without what is unreadable, counting and naming it.
 */
export type DamagePolicy = 'fail' | 'skip'

/** A block whose bytes cannot be read back, and why. */
export interface LostBlock {
  readonly block: ReceivedBlock
  readonly file: string
  readonly offset: number
  readonly problem: string
}

/**
 * Collects what recovery finds wrong in the receiver's two write-ahead logs and applies the
 * damage policy. Nothing is skipped silently:
 *
 * - A torn tail — a segment ending inside a frame — is an append a crash interrupted. An
 *   append is acknowledged (offsets committed, block allocated) only after its fsync, so those
 *   bytes were never relied on: they are reported at warn, naming the file and byte offset,
 *   and cut off. (When a block still needed lies at or after the tear, it is not a crash's
 *   tear but lost data, and counts as damage.)
 * - Any other damage — a checksum mismatch, a foreign header, a needed block whose frame or
 *   segment is missing — is refused by default with an error naming every file, offset and
 *   block (with its Kafka offset ranges), and saying how to go on; with `onDamagedWal:
 *   'skip'` it is logged at error and recovery goes on without it, the blocks lost counted
 *   in their batches' `lostRecords`.
 */
export class WalDamageLedger {
  readonly #policy: DamagePolicy
  readonly #logger: Logger
  readonly #input: string
  readonly #problems: string[] = []
  readonly #lost = new Map<number, LostBlock>()

  constructor(policy: DamagePolicy, logger: Logger, input: string) {
    this.#policy = policy
    this.#logger = logger
    this.#input = input
  }

  /** Blocks recovery goes on without (policy 'skip'), by id. */
  get lostBlocks(): ReadonlyMap<number, LostBlock> {
    return this.#lost
  }

  /** Damage found in the tracker's log. */
  async trackerLog(log: WriteAheadLog, segment: string, damage: SegmentDamage): Promise<void> {
    const file = log.pathOf(segment)
    if (damage.kind === 'torn-tail') {
      await this.cutOff(log, segment, damage)
      return
    }
    this.#report(
      `received-block tracker log segment '${file}' is damaged at byte ${damage.offset}: it ${damage.problem}. ` +
        `The ${damage.bytesAfter} bytes from there on are unreadable, and so are the block additions and ` +
        'allocations they recorded',
      { file, offset: damage.offset },
    )
  }

  /**
   * Damage nothing depends on — an append a crash interrupted, or damage in received data no
   * batch will read — reported at warn with the file and byte offset, and cut off.
   */
  async cutOff(log: WriteAheadLog, segment: string, damage: SegmentDamage): Promise<void> {
    const file = log.pathOf(segment)
    const message =
      damage.kind === 'torn-tail'
        ? 'a crash interrupted an append to a write-ahead log segment: its unfinished last frame was never ' +
          'acknowledged and is cut off'
        : 'a write-ahead log segment is damaged where no block still to process lies: the damaged part is cut off'
    this.#logger.warn(message, {
      input: this.#input,
      file,
      offset: damage.offset,
      bytes: damage.bytesAfter,
      problem: damage.problem,
    })
    await log.truncate(segment, damage.offset)
  }

  /** Blocks still needed whose frames cannot be read (damaged or missing). */
  dataBlocks(lost: readonly LostBlock[]): void {
    if (lost.length === 0) return
    const described = lost.map(
      (l) =>
        `block ${l.block.id} (${l.block.records} records: ${spanRanges(l.block.spans).map(String).join(' ')}) ` +
        `in '${l.file}' at byte ${l.offset}: ${l.problem}`,
    )
    this.#report(
      `the received-data log cannot give back ${lost.length} block(s) still to process: ${described.join('; ')}`,
      {
        files: [...new Set(lost.map((l) => l.file))],
        blocks: lost.map((l) => l.block.id),
      },
    )
    if (this.#policy === 'skip') for (const l of lost) this.#lost.set(l.block.id, l)
  }

  /** Throws the refusal to start when anything was damaged under policy 'fail'. */
  throwIfRefused(): void {
    if (this.#problems.length === 0 || this.#policy === 'skip') return
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `receiver stream '${this.#input}' cannot recover: ${this.#problems.join('. ')}. ` +
        "To start anyway, set onDamagedWal: 'skip' on createReceiverStream: recovery then goes on without the " +
        'damaged parts, logs every block it loses with its Kafka offset ranges (replay them with createRDD while ' +
        'Kafka retains them) and counts their records as lost. Or restore the damaged files from a backup',
      { details: { input: this.#input, problems: [...this.#problems] } },
    )
  }

  #report(problem: string, fields: Record<string, unknown>): void {
    this.#problems.push(problem)
    if (this.#policy === 'skip') {
      this.#logger.error(`going on without damaged write-ahead log data (onDamagedWal: 'skip'): ${problem}`, {
        input: this.#input,
        ...fields,
      })
    }
  }
}
