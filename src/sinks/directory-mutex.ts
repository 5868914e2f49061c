import { randomBytes } from 'node:crypto'
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { errnoCode } from '../core/durable-file.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'

/** Who holds a directory mutex: enough to tell a dead holder on this host from a live one. */
interface Holder {
  readonly pid: number
  readonly hostname: string
  readonly token: string
  readonly since: number
}

export interface DirectoryMutexOptions {
  /** How long to wait for a live holder before giving up. */
  readonly timeoutMs: number
  readonly logger: Logger
}

/** Signal 0 checks for existence without delivering anything; EPERM means it exists but is not ours. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errnoCode(error) === 'EPERM'
  }
}

function parseHolder(text: string | undefined): Holder | undefined {
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as Partial<Holder> | null
    return value !== null &&
      Number.isSafeInteger(value.pid) &&
      typeof value.hostname === 'string' &&
      typeof value.token === 'string'
      ? (value as Holder)
      : undefined
  } catch {
    return undefined
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Runs `body` while holding `<dir>/<name>`, a mutex between processes (also on other hosts
 * sharing the directory). The file is created whole with link(2), which fails when the name
 * exists — atomic on local file systems and on NFS, unlike an exclusive create followed by
 * a write. It is meant for short critical sections (a check and a rename): a holder that
 * died on this host is detected by its pid and its mutex removed; a holder on another host
 * is waited for until `timeoutMs`, then the error names the file to delete.
 */
export async function withDirectoryMutex<T>(
  dir: string,
  name: string,
  options: DirectoryMutexOptions,
  body: () => Promise<T>,
): Promise<T> {
  const file = join(dir, name)
  const holder: Holder = {
    pid: process.pid,
    hostname: hostname(),
    token: randomBytes(8).toString('hex'),
    since: Date.now(),
  }
  await acquire(file, holder, options)
  try {
    return await body()
  } finally {
    // Only our own: a mutex removed as stale by mistake and taken by another stays theirs.
    if (parseHolder(await readIfPresent(file))?.token === holder.token) await rm(file, { force: true })
  }
}

async function acquire(file: string, holder: Holder, options: DirectoryMutexOptions): Promise<void> {
  const candidate = `${file}.${holder.token}.tmp`
  const text = `${JSON.stringify(holder)}\n`
  await writeFile(candidate, text, { mode: 0o644 })
  const deadline = Date.now() + options.timeoutMs
  let backoff = 2
  try {
    for (;;) {
      try {
        await link(candidate, file)
        return
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error
      }
      const seen = await readIfPresent(file)
      const current = parseHolder(seen)
      if (current !== undefined && current.hostname === holder.hostname && !isProcessAlive(current.pid)) {
        // Its holder died inside the critical section (kill -9): nothing else will remove it.
        options.logger.warn('removing a directory mutex whose holder is no longer running', {
          file,
          pid: current.pid,
        })
        if ((await readIfPresent(file)) === seen) await rm(file, { force: true })
        continue
      }
      if (Date.now() + backoff > deadline) {
        const who =
          current === undefined
            ? 'an unreadable holder'
            : `process ${current.pid} on host '${current.hostname}' (since ${new Date(current.since).toISOString()})`
        throw new SluiceError(
          ErrorCodes.SINK,
          `'${file}' has been held by ${who} for longer than ${options.timeoutMs} ms; ` +
            `if that process no longer runs, delete '${file}'`,
          { retriable: true, details: { file, holder: current } },
        )
      }
      await sleep(backoff)
      backoff = Math.min(backoff * 2, 100)
    }
  } finally {
    await rm(candidate, { force: true })
  }
}
