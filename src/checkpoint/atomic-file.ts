import { link, mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  errnoCode,
  fsyncDirectory,
  isTempFileName,
  replaceFileDurably,
  writeDurableTemp,
} from '../core/durable-file.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'

// The durable-write mechanics live in core (the file sink uses them too); this module gives
// them the checkpoint's error vocabulary.
export { errnoCode, fsyncDirectory, isTempFileName }

/** Creates `dir` (and missing parents) if needed, durably: a new directory is flushed into its parent. */
export async function createDirectoryDurably(dir: string): Promise<void> {
  try {
    const created = await mkdir(dir, { recursive: true })
    if (created !== undefined) await fsyncDirectory(dirname(dir))
  } catch (error) {
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `could not create checkpoint directory '${dir}': ${messageOf(error)}`,
      {
        cause: error,
        details: { dir },
      },
    )
  }
}

function writeFailed(path: string, error: unknown): SluiceError {
  return new SluiceError(
    ErrorCodes.CHECKPOINT,
    `could not write checkpoint file '${path}': ${messageOf(error)}`,
    {
      cause: error,
      details: { file: path },
    },
  )
}

/**
 * Replaces `path` with `data` so that after a crash at any moment the file holds either its
 * old content or the complete new content, never a mix: write a temp file in the same
 * directory, fsync it, rename it over the target, then fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await replaceFileDurably(path, data)
  } catch (error) {
    throw writeFailed(path, error)
  }
}

/**
 * Creates `path` holding `data` only if it does not exist yet; returns false if it does.
 * The content is flushed before the file appears (a hard link from a temp file), so nobody
 * ever sees the file empty or half-written — not even after a power cut.
 */
export async function createFileExclusively(path: string, data: string | Uint8Array): Promise<boolean> {
  // The process holding the directory may sweep temp files at any moment; if it swept ours
  // before we linked it, write it again.
  for (let attempt = 1; ; attempt++) {
    let temp: string | undefined
    try {
      temp = await writeDurableTemp(path, data)
      await link(temp, path)
      await fsyncDirectory(dirname(path))
      return true
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false
      if (errnoCode(error) === 'ENOENT' && temp !== undefined && attempt < 3) continue
      throw writeFailed(path, error)
    } finally {
      if (temp !== undefined) await rm(temp, { force: true })
    }
  }
}

/** The file's text, or undefined when it does not exist; any other failure names the file. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `could not read checkpoint file '${path}': ${messageOf(error)}`,
      {
        cause: error,
        details: { file: path },
      },
    )
  }
}

/**
 * Removes the temp files in `dir` that interrupted writes left behind and returns their
 * names. Only safe while no other writer uses `dir` — the checkpoint lock guarantees that.
 */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const leftovers = (await readdir(dir)).filter(isTempFileName)
  for (const name of leftovers) await rm(join(dir, name), { force: true })
  return leftovers
}
