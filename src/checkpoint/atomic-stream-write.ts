import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { fsyncDirectory } from './atomic-file.ts'

/**
 * Same naming as `writeFileAtomic`'s temp files (`.<name>.<pid>-<random>.tmp`), so the sweep
 * that runs when a checkpoint directory is opened recognizes them (`isTempFileName`).
 */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`)
}

/**
 * `writeFileAtomic` for content too large to build as one string — a state snapshot of a
 * million keys. The pieces are written to a temp file as they come, then the file is
 * fsynced, renamed over `path` and the directory fsynced: after a crash at any moment
 * `path` holds its old content or the complete new one, and at worst a partial temp file is
 * left for the next open to sweep.
 *
 * A SluiceError thrown by `pieces` (a state value that cannot be encoded) is rethrown as is;
 * file system failures become CHECKPOINT errors naming the file.
 */
export async function writeFileAtomicFrom(
  path: string,
  pieces: AsyncIterable<string> | Iterable<string>,
): Promise<void> {
  const temp = tempPathFor(path)
  let renamed = false
  try {
    const handle = await open(temp, 'wx', 0o644)
    try {
      for await (const piece of pieces) if (piece.length > 0) await handle.write(piece)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
    renamed = true
    await fsyncDirectory(dirname(path))
  } catch (error) {
    if (!renamed) await rm(temp, { force: true })
    if (error instanceof SluiceError) throw error
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `could not write checkpoint file '${path}': ${messageOf(error)}`,
      { cause: error, details: { file: path } },
    )
  }
}
