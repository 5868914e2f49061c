import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import {
  createDirectoryDurably,
  errnoCode,
  readFileIfExists,
  removeTempFiles,
  writeFileAtomic,
} from './atomic-file.ts'

/** Entry files are named by the plain decimal batch id, nothing else: `0`, `1`, ... `1042`. */
const ENTRY_NAME = /^(0|[1-9][0-9]*)$/

/**
 * A directory of files named by batch id — the shape shared by the offset log and the
 * commit log. It knows names and bytes only; what an entry means is up to its codec.
 */
export class BatchLog {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  /** Creates the directory if needed and makes its creation durable. */
  async create(): Promise<void> {
    await createDirectoryDurably(this.dir)
  }

  fileFor(batchId: number): string {
    return join(this.dir, String(batchId))
  }

  /**
   * Batch ids present, ascending (none if the directory does not exist yet). Temp files and
   * any other stray names are not entries.
   */
  async batchIds(): Promise<number[]> {
    return (await this.#names())
      .filter((name) => ENTRY_NAME.test(name))
      .map(Number)
      .filter(Number.isSafeInteger)
      .sort((a, b) => a - b)
  }

  async write(batchId: number, text: string): Promise<void> {
    await writeFileAtomic(this.fileFor(batchId), text)
  }

  async read(batchId: number): Promise<string | undefined> {
    return readFileIfExists(this.fileFor(batchId))
  }

  /**
   * Deleting is not made durable: an entry that reappears after a power cut is only an old
   * batch that the next prune removes again.
   */
  async remove(batchId: number): Promise<void> {
    await rm(this.fileFor(batchId), { force: true })
  }

  /** Removes temp files left by writes a crash interrupted; returns their names. */
  async removeTempFiles(): Promise<string[]> {
    return removeTempFiles(this.dir)
  }

  async #names(): Promise<string[]> {
    try {
      return await readdir(this.dir)
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return []
      throw new SluiceError(
        ErrorCodes.CHECKPOINT,
        `could not list checkpoint directory '${this.dir}': ${messageOf(error)}`,
        {
          cause: error,
          details: { dir: this.dir },
        },
      )
    }
  }
}
