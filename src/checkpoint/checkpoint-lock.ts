import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { createFileExclusively, readFileIfExists } from './atomic-file.ts'

/** What `<dir>/lock` holds: enough to tell whether the owner still runs, and to tell owners apart. */
export interface LockOwner {
  readonly pid: number
  readonly hostname: string
  /** When the owner took the lock, in milliseconds since the epoch. */
  readonly startedAt: number
  /** Random per acquisition, so that release never deletes a lock someone else took over. */
  readonly token: string
}

export interface AcquireLockOptions {
  logger: Logger
  clock: () => number
}

const LOCK_FILE = 'lock'

/** A lock can change hands between our create and read; give up after a few rounds. */
const MAX_ATTEMPTS = 3

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null
    const valid =
      value !== null &&
      Number.isSafeInteger(value.pid) &&
      typeof value.hostname === 'string' &&
      Number.isSafeInteger(value.startedAt) &&
      typeof value.token === 'string'
    return valid ? (value as LockOwner) : undefined
  } catch {
    return undefined
  }
}

/** Signal 0 checks for existence without delivering anything; EPERM means it exists but is not ours. */
/** The tokens of the locks this process holds now. */
const heldHere = new Set<string>()

/**
 * Whether the lock's owner may still be running. A lock naming this very process's pid that
 * this process does not hold was left by an earlier process that had the same pid: the
 * usual case in a container, where a job restarted after a kill runs as pid 1 again.
 */
function ownerMayBeAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return heldHere.has(owner.token)
  return isProcessAlive(owner.pid)
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM'
  }
}

function lockedBy(dir: string, file: string, owner: LockOwner): SluiceError {
  return new SluiceError(
    ErrorCodes.CHECKPOINT_LOCKED,
    `checkpoint directory '${dir}' is locked by process ${owner.pid} on host '${owner.hostname}' ` +
      `(started ${new Date(owner.startedAt).toISOString()}); stop that process first, ` +
      `or delete '${file}' if it is no longer running`,
    { details: { dir, pid: owner.pid, hostname: owner.hostname, startedAt: owner.startedAt } },
  )
}

/** Who holds a checkpoint directory's lock, as a reader that never takes it sees it. */
export interface LockHolder {
  readonly owner: LockOwner
  /**
   * Whether the owner still runs: true or false on this host; undefined for another host,
   * which cannot be checked (the engine respects such a lock whatever its age).
   */
  readonly alive: boolean | undefined
}

/**
 * Reads `<dir>/lock` without touching it: undefined when nobody holds the directory, or
 * when the file is unreadable (`unreadable: true` then).
 */
export async function readLockHolder(
  dir: string,
): Promise<LockHolder | { readonly unreadable: true } | undefined> {
  const text = await readFileIfExists(join(dir, LOCK_FILE))
  if (text === undefined) return undefined
  const owner = parseOwner(text)
  if (owner === undefined) return { unreadable: true }
  return { owner, alive: owner.hostname === hostname() ? ownerMayBeAlive(owner) : undefined }
}

/**
 * Exclusive use of a checkpoint directory by one live process. Two writers would interleave
 * offset log entries and each re-run the other's batches, so a second opener is refused.
 * A lock whose owner died on this host (crash, kill -9) is stale and taken over with a
 * warning; a lock from another host cannot be checked and is always respected.
 */
export class CheckpointLock {
  readonly file: string
  readonly owner: LockOwner
  readonly #logger: Logger
  #released = false

  private constructor(file: string, owner: LockOwner, logger: Logger) {
    this.file = file
    this.owner = owner
    this.#logger = logger
  }

  static async acquire(dir: string, options: AcquireLockOptions): Promise<CheckpointLock> {
    const file = join(dir, LOCK_FILE)
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: options.clock(),
      token: randomBytes(8).toString('hex'),
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await createFileExclusively(file, `${JSON.stringify(owner)}\n`)) {
        heldHere.add(owner.token)
        return new CheckpointLock(file, owner, options.logger)
      }
      const text = await readFileIfExists(file)
      if (text === undefined) continue // released between our create and our read: try again
      const current = parseOwner(text)
      if (current === undefined) {
        throw new SluiceError(
          ErrorCodes.CHECKPOINT_LOCKED,
          `checkpoint directory '${dir}' is locked, but its lock file '${file}' is unreadable; ` +
            `if no other process uses this directory, delete '${file}'`,
          { details: { dir } },
        )
      }
      if (current.hostname !== owner.hostname || ownerMayBeAlive(current)) throw lockedBy(dir, file, current)
      options.logger.warn('taking over a stale checkpoint lock: its owner is no longer running', {
        dir,
        pid: current.pid,
        hostname: current.hostname,
        startedAt: new Date(current.startedAt).toISOString(),
      })
      await rm(file, { force: true })
    }
    throw new SluiceError(
      ErrorCodes.CHECKPOINT_LOCKED,
      `could not lock checkpoint directory '${dir}': the lock changed hands ${MAX_ATTEMPTS} times ` +
        'while trying; another process is starting on the same directory',
      { retriable: true, details: { dir } },
    )
  }

  /** Deletes the lock file if it is still ours. Calling it again does nothing. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    heldHere.delete(this.owner.token)
    const text = await readFileIfExists(this.file)
    const current = text === undefined ? undefined : parseOwner(text)
    if (current?.token === this.owner.token) {
      await rm(this.file, { force: true })
    } else {
      this.#logger.warn('checkpoint lock is no longer ours at release; leaving it in place', {
        file: this.file,
      })
    }
  }
}
