import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'

/**
 * Temp files start with a dot and end with `.tmp`. Checkpoint entries are named by their
 * decimal batch id, so a temp file left behind by a crash can never parse as an entry.
 */
const TEMP_SUFFIX = '.tmp'

export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX)
}

function tempPathFor(path: string): string {
  const unique = `${process.pid}-${randomBytes(6).toString('hex')}`
  return join(dirname(path), `.${basename(path)}.${unique}${TEMP_SUFFIX}`)
}

/** The `code` of a Node.js system error (`ENOENT`, `EEXIST`...), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Makes a rename or a newly created file in `dir` durable: the rename is only recorded once
 * the directory itself is flushed. Windows cannot open a directory for fsync; there the
 * rename's durability is left to the file system.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (error) {
    const code = errnoCode(error)
    if (process.platform === 'win32' && (code === 'EISDIR' || code === 'EPERM' || code === 'EACCES')) return
    throw error
  } finally {
    await handle?.close()
  }
}

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

/** Writes `data` to a fresh temp file next to `path` and flushes it to disk; returns the temp path. */
async function writeDurableTemp(path: string, data: string | Uint8Array): Promise<string> {
  const temp = tempPathFor(path)
  try {
    const handle = await open(temp, 'wx', 0o644)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    return temp
  } catch (error) {
    await rm(temp, { force: true })
    throw error
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
  let temp: string | undefined
  try {
    temp = await writeDurableTemp(path, data)
    await rename(temp, path)
    temp = undefined
    await fsyncDirectory(dirname(path))
  } catch (error) {
    if (temp !== undefined) await rm(temp, { force: true })
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
