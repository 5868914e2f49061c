import { join } from 'node:path'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { createDirectoryDurably } from './atomic-file.ts'
import { writeFileAtomicFrom } from './atomic-stream-write.ts'
import { BatchLog } from './batch-log.ts'
import {
  encodeStateSnapshot,
  readStateSnapshot,
  type SnapshotEntry,
  type StateSnapshot,
  type StateSnapshotHeader,
  unusableSnapshot,
} from './state-snapshot-file.ts'

/** Stream names become directory names: plain characters only, and never a hidden file. */
const STREAM_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/

export function isValidStateStreamName(name: string): boolean {
  return STREAM_NAME.test(name) && name.length <= 100
}

/**
 * The state snapshots of one stateful stream: `<checkpoint>/state/<stream>/<batchId>`, one
 * file per snapshot, named like the offset log's entries so that temp files and strays are
 * never taken for snapshots. Which snapshot to load and which to prune is the stream's
 * policy; this class only reads, writes and lists them. Used only while the checkpoint
 * directory's lock is held.
 */
export class StateSnapshotStore {
  readonly stream: string
  readonly dir: string
  readonly #files: BatchLog

  private constructor(stream: string, dir: string) {
    this.stream = stream
    this.dir = dir
    this.#files = new BatchLog(dir)
  }

  /** Creates the directory if needed and sweeps temp files that crashed writes left behind. */
  static async open(checkpointDir: string, stream: string, logger: Logger): Promise<StateSnapshotStore> {
    if (!isValidStateStreamName(stream)) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `state stream name ${JSON.stringify(stream)} cannot name a directory: use letters, digits, '.', '_' and '-'`,
      )
    }
    const parent = join(checkpointDir, 'state')
    await createDirectoryDurably(parent)
    const store = new StateSnapshotStore(stream, join(parent, stream))
    await store.#files.create()
    const leftovers = await store.#files.removeTempFiles()
    if (leftovers.length > 0) {
      logger.info('removed temp files of interrupted state snapshot writes', {
        dir: store.dir,
        files: leftovers,
      })
    }
    return store
  }

  fileFor(batchId: number): string {
    return this.#files.fileFor(batchId)
  }

  /** Batch ids that have a snapshot file, ascending (valid or not: reading tells). */
  batchIds(): Promise<number[]> {
    return this.#files.batchIds()
  }

  /** Writes the snapshot of `header.batchId` atomically, replacing any earlier file of that batch. */
  async write(header: StateSnapshotHeader, entries: Iterable<SnapshotEntry>): Promise<void> {
    await writeFileAtomicFrom(this.fileFor(header.batchId), encodeStateSnapshot(header, entries))
  }

  /** Reads and verifies the snapshot of `batchId`; a STATE error says why it cannot be used. */
  async read(batchId: number): Promise<StateSnapshot> {
    const file = this.fileFor(batchId)
    const snapshot = await readStateSnapshot(file)
    if (snapshot.batchId !== batchId) {
      throw unusableSnapshot(file, `records batch ${snapshot.batchId} but is named ${batchId}`)
    }
    if (snapshot.stream !== this.stream) {
      throw unusableSnapshot(file, `belongs to stream '${snapshot.stream}', not '${this.stream}'`)
    }
    return snapshot
  }

  /** Deleting is not made durable: a snapshot that reappears after a power cut is pruned again. */
  async remove(batchId: number): Promise<void> {
    await this.#files.remove(batchId)
  }
}
