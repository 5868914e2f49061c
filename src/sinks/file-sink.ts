import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { errnoCode, fsyncDirectory, replaceFileDurably } from '../core/durable-file.ts'
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
import type { BatchOutcome, ExactlyOnceSink } from './sink.ts'
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

type State = 'new' | 'started' | 'closed'

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
 */
export class FileSink implements ExactlyOnceSink<FileSinkWriter> {
  readonly app: string
  readonly dir: string
  readonly #logger: Logger
  #state: State = 'new'

  constructor(options: FileSinkOptions) {
    const given = parseOptions(fileSinkOptions, options, 'createFileSink')
    this.app = given.app
    this.dir = resolve(given.dir)
    this.#logger = (given.logger ?? createLogger()).child({ component: 'file-sink', app: this.app })
  }

  /** The file that holds batch `batchId`'s output. */
  fileOf(batchId: number): string {
    return join(this.dir, `${batchId}.jsonl`)
  }

  /** Creates the directory (durably) if it is missing; fails here when it cannot be. */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedError('file', this.app)
    if (this.#state === 'started') return
    try {
      const created = await mkdir(this.dir, { recursive: true })
      if (created !== undefined) await fsyncDirectory(dirname(this.dir))
    } catch (error) {
      throw new SluiceError(
        ErrorCodes.SINK,
        `the file sink of app '${this.app}' cannot create its directory '${this.dir}': ${messageOf(error)}`,
        { cause: error, details: { app: this.app, dir: this.dir } },
      )
    }
    this.#state = 'started'
  }

  /**
   * Collects the batch's lines from `write`, then replaces `<dir>/<id>.jsonl` atomically.
   * Resolves `'already-applied'` when the file already held exactly this content (a
   * replay), `'applied'` otherwise. A write function that throws leaves the file as it was.
   */
  async writeBatch(
    batch: SinkBatch,
    write: (writer: FileSinkWriter) => Promise<void>,
  ): Promise<BatchOutcome> {
    if (this.#state === 'closed') throw closedError('file', this.app)
    if (this.#state !== 'started') throw notStartedError('file', this.app)
    checkBatch(batch)
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
    try {
      const previous = await readIfExists(file)
      await replaceFileDurably(file, content)
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
      throw batchWriteError(this.app, batch, error, `writing '${file}'`)
    }
  }

  async close(): Promise<void> {
    this.#state = 'closed'
  }
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
