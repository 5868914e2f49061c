import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Durable file primitives shared by the checkpoint and the file sink. They throw the raw
 * file-system errors: each caller wraps them into its own SluiceError vocabulary
 * (a checkpoint file, a sink's output file...).
 */

/**
 * Temp files start with a dot and end with `.tmp`. Files that matter (checkpoint entries,
 * sink output) never look like that, so a temp file left behind by a crash is never read.
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

/** Writes `data` to a fresh temp file next to `path` and flushes it to disk; returns the temp path. */
export async function writeDurableTemp(path: string, data: string | Uint8Array): Promise<string> {
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

/**
 * Replaces `path` with `data` so that after a crash at any moment the file holds either its
 * old content or the complete new content, never a mix: write a temp file in the same
 * directory, fsync it, rename it over the target, then fsync the directory.
 */
export async function replaceFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  let temp: string | undefined
  try {
    temp = await writeDurableTemp(path, data)
    await rename(temp, path)
    temp = undefined
    await fsyncDirectory(dirname(path))
  } finally {
    if (temp !== undefined) await rm(temp, { force: true })
  }
}
