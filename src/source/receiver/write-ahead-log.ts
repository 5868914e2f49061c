import { type FileHandle, mkdir, open, readdir, readFile, rm, truncate } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { errnoCode, fsyncDirectory } from '../../core/durable-file.ts'
import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import type { WalHandle } from './received-block.ts'
import {
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  frameProblem,
  SEGMENT_HEADER,
  type SegmentScan,
  scanSegment,
} from './wal-segment.ts'

export interface WriteAheadLogOptions {
  readonly dir: string
  /** What the log holds, for messages: "received data", "received block metadata". */
  readonly what: string
  /** A segment is closed and a new one started once it is this old (ms)... */
  readonly rollIntervalMs: number
  /** ...or once the next frame would take it past this many bytes. */
  readonly maxSegmentBytes: number
  /** ms since the epoch, for the roll by time. */
  readonly now: () => number
}

const SEGMENT_NAME = /^segment-(\d{12})\.wal$/

/** The file name of segment number `n`; names sort in the order segments were started. */
export function segmentName(n: number): string {
  return `segment-${String(n).padStart(12, '0')}.wal`
}

interface ActiveSegment {
  readonly name: string
  readonly handle: FileHandle
  readonly startedAt: number
  size: number
}

/**
 * A file-based write-ahead log (Spark's FileBasedWriteAheadLog): a directory of segment
 * files (format in wal-segment.ts), appended to one at a time. An append is durable when it
 * resolves — the frame is written and fsynced, and a new segment's directory entry too — so
 * a caller may act on it (commit offsets, allocate a block) only then. A new segment is
 * started when the current one is `rollIntervalMs` old or would pass `maxSegmentBytes`, and
 * always after a restart: a segment a crash may have torn is never appended to again. Old
 * segments are deleted by name once nothing in them is needed.
 */
export class WriteAheadLog {
  readonly dir: string
  readonly #options: WriteAheadLogOptions
  #nextSegment: number
  #active: ActiveSegment | undefined
  #appending: Promise<unknown> = Promise.resolve()
  #closed = false
  bytesWritten = 0

  private constructor(options: WriteAheadLogOptions, nextSegment: number) {
    this.dir = options.dir
    this.#options = options
    this.#nextSegment = nextSegment
  }

  /** Opens (creating) the log's directory; appends go to a new segment. */
  static async open(options: WriteAheadLogOptions): Promise<WriteAheadLog> {
    try {
      await mkdir(options.dir, { recursive: true })
      await fsyncDirectory(dirname(options.dir))
    } catch (error) {
      throw walError(`cannot create the ${options.what} write-ahead log directory '${options.dir}'`, error, {
        file: options.dir,
      })
    }
    const log = new WriteAheadLog(options, 0)
    const names = await log.segments()
    const last = names.at(-1)
    log.#nextSegment = last === undefined ? 1 : Number(SEGMENT_NAME.exec(last)![1]) + 1
    return log
  }

  /** Segment file names, oldest first. */
  async segments(): Promise<string[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (error) {
      throw walError(`cannot list the ${this.#options.what} write-ahead log '${this.dir}'`, error, {
        file: this.dir,
      })
    }
    return names.filter((name) => SEGMENT_NAME.test(name)).sort()
  }

  /** The segment appends go to now, if one was started. */
  get activeSegment(): string | undefined {
    return this.#active?.name
  }

  pathOf(segment: string): string {
    return join(this.dir, segment)
  }

  /** Every frame of one segment, up to its first damage (see wal-segment.ts). */
  async scan(segment: string): Promise<SegmentScan> {
    let bytes: Buffer
    try {
      bytes = await readFile(this.pathOf(segment))
    } catch (error) {
      throw walError(`cannot read write-ahead log segment '${this.pathOf(segment)}'`, error, {
        file: this.pathOf(segment),
      })
    }
    return scanSegment(bytes)
  }

  /** Appends `payload` durably; resolves with where it is. Appends run one at a time, in call order. */
  append(payload: Buffer): Promise<WalHandle> {
    const appended = this.#appending.then(() => this.#append(payload))
    this.#appending = appended.catch(() => {})
    return appended
  }

  /** Reads back one frame, checking its length and checksum; damage fails naming the file and offset. */
  async read(handle: WalHandle): Promise<Buffer> {
    const path = this.pathOf(handle.segment)
    let file: FileHandle
    try {
      file = await open(path, 'r')
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        throw damagedWal(path, handle.offset, `the segment holding this frame is missing`)
      }
      throw walError(`cannot open write-ahead log segment '${path}'`, error, {
        file: path,
        offset: handle.offset,
      })
    }
    try {
      const header = Buffer.alloc(FRAME_HEADER_BYTES)
      const { bytesRead } = await file.read(header, 0, FRAME_HEADER_BYTES, handle.offset)
      const payload = Buffer.allocUnsafe(handle.length)
      const got =
        bytesRead < FRAME_HEADER_BYTES
          ? 0
          : (await file.read(payload, 0, handle.length, handle.offset + FRAME_HEADER_BYTES)).bytesRead
      const problem = frameProblem(header.subarray(0, bytesRead), payload.subarray(0, got), handle.length)
      if (problem !== undefined) throw damagedWal(path, handle.offset, problem)
      return payload
    } finally {
      await file.close()
    }
  }

  /** Cuts a segment at `offset` (a torn write recovery has reported), so later scans stop reporting it. */
  async truncate(segment: string, offset: number): Promise<void> {
    const path = this.pathOf(segment)
    try {
      await truncate(path, offset)
    } catch (error) {
      throw walError(`cannot truncate write-ahead log segment '${path}' at byte ${offset}`, error, {
        file: path,
        offset,
      })
    }
  }

  /** Deletes segments (never the one being appended to); returns the names deleted. */
  async delete(segments: readonly string[]): Promise<string[]> {
    const deleted: string[] = []
    for (const segment of segments) {
      if (segment === this.#active?.name) continue
      try {
        await rm(this.pathOf(segment), { force: true })
        deleted.push(segment)
      } catch (error) {
        throw walError(`cannot delete write-ahead log segment '${this.pathOf(segment)}'`, error, {
          file: this.pathOf(segment),
        })
      }
    }
    return deleted
  }

  /** Waits for the appends under way, then closes the active segment. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#appending
    const active = this.#active
    this.#active = undefined
    await active?.handle.close().catch(() => {})
  }

  async #append(payload: Buffer): Promise<WalHandle> {
    if (this.#closed) {
      throw new SluiceError(
        ErrorCodes.CLOSED,
        `the ${this.#options.what} write-ahead log '${this.dir}' is closed`,
      )
    }
    const frameBytes = FRAME_HEADER_BYTES + payload.length
    const active = await this.#segmentFor(frameBytes)
    const offset = active.size
    try {
      await active.handle.writev([encodeFrameHeader(payload), payload], offset)
      await active.handle.datasync()
    } catch (error) {
      // What was half written is a torn tail for recovery to report; never append after it.
      this.#active = undefined
      await active.handle.close().catch(() => {})
      throw walError(
        `appending ${frameBytes} bytes to write-ahead log segment '${this.pathOf(active.name)}' failed`,
        error,
        { file: this.pathOf(active.name), offset },
      )
    }
    active.size += frameBytes
    this.bytesWritten += frameBytes
    return { segment: active.name, offset, length: payload.length }
  }

  async #segmentFor(frameBytes: number): Promise<ActiveSegment> {
    const active = this.#active
    const now = this.#options.now()
    if (
      active !== undefined &&
      now - active.startedAt < this.#options.rollIntervalMs &&
      (active.size + frameBytes <= this.#options.maxSegmentBytes || active.size === SEGMENT_HEADER.length)
    ) {
      return active
    }
    if (active !== undefined) {
      this.#active = undefined
      await active.handle.close().catch(() => {})
    }
    const name = segmentName(this.#nextSegment++)
    const path = this.pathOf(name)
    let handle: FileHandle | undefined
    try {
      handle = await open(path, 'wx', 0o644)
      await handle.write(SEGMENT_HEADER, 0, SEGMENT_HEADER.length, 0)
      await handle.datasync()
      await fsyncDirectory(this.dir)
    } catch (error) {
      await handle?.close().catch(() => {})
      throw walError(`cannot start write-ahead log segment '${path}'`, error, { file: path })
    }
    this.bytesWritten += SEGMENT_HEADER.length
    this.#active = { name, handle, startedAt: now, size: SEGMENT_HEADER.length }
    return this.#active
  }
}

/** A file-system failure of the write-ahead log (disk full, permissions...). */
function walError(what: string, error: unknown, details: Record<string, unknown>): SluiceError {
  return new SluiceError(ErrorCodes.CHECKPOINT, `${what}: ${messageOf(error)}`, { cause: error, details })
}

/** A frame that cannot be read back as written. */
export function damagedWal(file: string, offset: number, problem: string): SluiceError {
  return new SluiceError(
    ErrorCodes.CHECKPOINT,
    `write-ahead log segment '${file}' is damaged at byte ${offset}: ${problem}`,
    { details: { file, offset } },
  )
}
