import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { errnoCode, fsyncDirectory, writeDurableTemp } from '../core/durable-file.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import {
  loggerOption,
  nonEmptyString,
  optionsObject,
  parseOptions,
  required,
  stringOption,
} from '../core/options.ts'
import { checkBatch, type SinkBatch } from './batch.ts'
import { DirectoryOwnership } from './file-sink-owner.ts'
import type { BatchOutcome, ExactlyOnceSink } from './sink.ts'
import { publishingOutcome } from './sink-diagnostics.ts'
import { batchWriteError, closedError, notStartedError } from './sink-errors.ts'

/** Options of `createFileSink`. */
export interface FileSinkOptions {
  readonly app: string
  /** Where `<batchId>.jsonl` files go; created by `start()` when missing. */
  readonly dir: string
  readonly logger?: Logger
}

/** What the write function of a batch writes through: one JSON line per value, in call order. */
export interface FileSinkWriter {
  readonly batch: SinkBatch
  write(value: unknown): void
}

type State = 'new' | 'started' | 'fenced' | 'closed'

const fileSinkOptions = optionsObject({
  app: required(nonEmptyString),
  dir: required(stringOption({ expected: 'a directory path' })),
  logger: loggerOption,
})

/**
 * The idempotent file sink: batch N's output is the file `<dir>/<N>.jsonl`, written whole
 * or not at all (temp file, fsync, rename, fsync of the directory). It keeps no offsets: a
 * re-run of a batch replaces the file, with identical content as long as the job computes
 * the batch deterministically from its offset ranges — which is what makes it exactly-once.
 *
 * One writer per directory: `start()` takes the directory over (an owner record), and every
 * rename checks, under a mutex, that this instance still owns it — an older instance still
 * running (a zombie, a second deployment) is FENCED before it can replace a file.
 */
export class FileSink implements ExactlyOnceSink<FileSinkWriter> {
  readonly app: string
  readonly dir: string
  readonly #logger: Logger
  readonly #ownership: DirectoryOwnership
  #state: State = 'new'
  #fenced: SluiceError | undefined
  /** The highest batch id whose file is in the directory (-1: none). */
  #highestBatch = -1

  constructor(options: FileSinkOptions) {
    const given = parseOptions(fileSinkOptions, options, 'createFileSink')
    this.app = given.app
    this.dir = resolve(given.dir)
    this.#logger = (given.logger ?? createLogger()).child({ component: 'file-sink', app: this.app })
    this.#ownership = new DirectoryOwnership(this.dir, this.app, this.#logger)
  }

  /** The file that holds batch `batchId`'s output. */
  fileOf(batchId: number): string {
    return join(this.dir, `${batchId}.jsonl`)
  }

  /**
   * Creates the directory (durably) if it is missing and takes it over: from now on, an
   * instance that wrote here before fails its next batch with FENCED. Fails here when the
   * directory cannot be created or belongs to another app.
   */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedError('file', this.app)
    if (this.#state === 'started') return
    try {
      const created = await mkdir(this.dir, { recursive: true })
      if (created !== undefined) await fsyncDirectory(dirname(this.dir))
      await this.#ownership.takeOver()
      this.#highestBatch = await highestBatchFile(this.dir)
    } catch (error) {
      if (error instanceof SluiceError) throw error
      throw new SluiceError(
        ErrorCodes.SINK,
        `the file sink of app '${this.app}' cannot use its directory '${this.dir}': ${messageOf(error)}`,
        { cause: error, details: { app: this.app, dir: this.dir } },
      )
    }
    this.#state = 'started'
  }

  /**
   * Collects the batch's lines from `write`, then replaces `<dir>/<id>.jsonl` atomically.
   * Resolves `'already-applied'` when the file already held exactly this content (a
   * replay), `'applied'` otherwise. A write function that throws leaves the file as it was.
   * FENCED when another instance has taken the directory over; SINK_OFFSET_MISMATCH when the
   * directory holds a later batch than this one (written by a run with another checkpoint).
   */
  async writeBatch(
    batch: SinkBatch,
    write: (writer: FileSinkWriter) => Promise<void>,
  ): Promise<BatchOutcome> {
    return publishingOutcome(this.app, 'file', batch, () => this.#writeBatch(batch, write))
  }

  async #writeBatch(
    batch: SinkBatch,
    write: (writer: FileSinkWriter) => Promise<void>,
  ): Promise<BatchOutcome> {
    if (this.#state === 'fenced') throw this.#fenced!
    if (this.#state === 'closed') throw closedError('file', this.app)
    if (this.#state !== 'started') throw notStartedError('file', this.app)
    checkBatch(batch)
    if (batch.id < this.#highestBatch) throw this.#laterBatchError(batch)
    const lines: string[] = []
    let open = true
    const writer: FileSinkWriter = {
      batch,
      write: (value) => {
        if (!open)
          throw new SluiceError(ErrorCodes.CLOSED, `the output of batch ${batch.id} is already written`)
        lines.push(toJsonLine(value, batch, lines.length))
      },
    }
    try {
      await write(writer)
    } catch (error) {
      throw batchWriteError(this.app, batch, error)
    } finally {
      open = false
    }
    const file = this.fileOf(batch.id)
    const content = lines.join('')
    let temp: string | undefined
    try {
      const previous = await readIfExists(file)
      // Written and flushed before the mutex, which then only covers the check and the rename.
      temp = await writeDurableTemp(file, content)
      const ownedTemp = temp
      const owned = await this.#ownership.whileOwner(async () => {
        await rename(ownedTemp, file)
        temp = undefined
        await fsyncDirectory(this.dir)
      })
      if (!owned.ranBody) throw this.#fence(batch, owned.owner)
      this.#highestBatch = Math.max(this.#highestBatch, batch.id)
      if (previous === content) return 'already-applied'
      if (previous !== undefined) {
        // Exactly-once by replacement holds only for deterministic jobs: say so when it did not.
        this.#logger.warn('a re-run of a batch produced different output; the job is not deterministic', {
          batchId: batch.id,
          file,
        })
      }
      return 'applied'
    } catch (error) {
      if (error instanceof SluiceError && error.details.batchId === batch.id) throw error
      throw batchWriteError(this.app, batch, error, `writing '${file}'`)
    } finally {
      if (temp !== undefined) await rm(temp, { force: true })
    }
  }

  async close(): Promise<void> {
    this.#state = 'closed'
  }

  #fence(batch: SinkBatch, owner: string): SluiceError {
    this.#state = 'fenced'
    this.#fenced = new SluiceError(
      ErrorCodes.FENCED,
      `batch ${batch.id} of app '${this.app}' was not written: another instance took over the file sink directory ` +
        `'${this.dir}' (now owned by ${owner}); this instance has been fenced and must stop`,
      { details: { app: this.app, batchId: batch.id, dir: this.dir } },
    )
    return this.#fenced
  }

  #laterBatchError(batch: SinkBatch): SluiceError {
    return new SluiceError(
      ErrorCodes.SINK_OFFSET_MISMATCH,
      `batch ${batch.id} of app '${this.app}' was not written: '${this.dir}' already holds the output of batch ` +
        `${this.#highestBatch}, so it was written by a run with another checkpoint (or this checkpoint is older ` +
        `than the directory); writing batch ${batch.id} would mix the batches of two runs; run with the checkpoint ` +
        'that wrote the directory, or give this run an empty directory; nothing was written',
      { details: { app: this.app, batchId: batch.id, dir: this.dir, highestBatch: this.#highestBatch } },
    )
  }
}

/** The highest N of the `<N>.jsonl` files in `dir`, or -1. */
async function highestBatchFile(dir: string): Promise<number> {
  let highest = -1
  for (const name of await readdir(dir)) {
    const match = /^(\d+)\.jsonl$/.exec(name)
    if (match) highest = Math.max(highest, Number(match[1]))
  }
  return highest
}

/** Creates a file sink; options are checked now, the directory is created by `start()`. */
export function createFileSink(options: FileSinkOptions): FileSink {
  return new FileSink(options)
}

/** One JSON line; bigints (offsets) become decimal strings, as everywhere on disk in sluice. */
function toJsonLine(value: unknown, batch: SinkBatch, index: number): string {
  const json = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))
  if (json === undefined) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `value ${index} of batch ${batch.id} cannot be written as JSON (it is ${typeof value})`,
      { details: { batchId: batch.id } },
    )
  }
  return `${json}\n`
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
}
