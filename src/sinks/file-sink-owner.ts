import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { errnoCode, replaceFileDurably } from '../core/durable-file.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { withDirectoryMutex } from './directory-mutex.ts'

/** `<dir>/.sluice-owner.json`: which sink instance may write the directory. */
export interface OwnerRecord {
  readonly format: 'sluice.file-sink-owner.v1'
  readonly app: string
  /** Counts takeovers of the directory, for people reading the record. */
  readonly epoch: number
  /** Random per sink instance: what tells the owner from everyone else. */
  readonly token: string
  readonly pid: number
  readonly hostname: string
  /** When this instance took the directory over, ms since epoch. */
  readonly since: number
}

const ownerFile = '.sluice-owner.json'
const mutexFile = '.sluice-owner.lock'
/** The mutex guards a check and a rename; a holder slower than this is stuck or gone. */
const mutexTimeoutMs = 30_000

export function describeOwner(owner: OwnerRecord): string {
  return `process ${owner.pid} on host '${owner.hostname}' (owner since ${new Date(owner.since).toISOString()})`
}

/**
 * The fence of a file-sink directory. `takeOver` makes this instance the directory's only
 * writer: it replaces the owner record with its own, so an older instance (a zombie that
 * stalled, or a second deployment) finds another owner at its next `whileOwner` and must
 * stop. Both run under one mutex, so no rename of an old owner can slip in after a takeover.
 */
export class DirectoryOwnership {
  readonly dir: string
  readonly #app: string
  readonly #logger: Logger
  #mine: OwnerRecord | undefined

  constructor(dir: string, app: string, logger: Logger) {
    this.dir = dir
    this.#app = app
    this.#logger = logger
  }

  get file(): string {
    return join(this.dir, ownerFile)
  }

  /** Becomes the owner; refuses a directory that another app owns. */
  async takeOver(): Promise<void> {
    await this.#locked(async () => {
      const previous = await this.#read()
      if (previous !== undefined && previous.app !== this.#app) {
        throw new SluiceError(
          ErrorCodes.SINK,
          `the file sink of app '${this.#app}' cannot write '${this.dir}': app '${previous.app}' writes there ` +
            `(${this.file}); give each app its own directory`,
          { details: { app: this.#app, dir: this.dir, owner: previous.app } },
        )
      }
      const mine: OwnerRecord = {
        format: 'sluice.file-sink-owner.v1',
        app: this.#app,
        epoch: (previous?.epoch ?? 0) + 1,
        token: randomBytes(8).toString('hex'),
        pid: process.pid,
        hostname: hostname(),
        since: Date.now(),
      }
      await replaceFileDurably(this.file, `${JSON.stringify(mine)}\n`)
      this.#mine = mine
      if (previous !== undefined) {
        this.#logger.info('took over the file sink directory; its previous owner is fenced', {
          dir: this.dir,
          epoch: mine.epoch,
          previous: describeOwner(previous),
        })
      }
    })
  }

  /**
   * Runs `body` (a rename into the directory) only while this instance still owns it.
   * Otherwise it does not run it and resolves with who owns the directory now.
   */
  async whileOwner(
    body: () => Promise<void>,
  ): Promise<{ ranBody: true } | { ranBody: false; owner: string }> {
    return this.#locked(async () => {
      const current = await this.#read()
      if (current === undefined) return { ranBody: false, owner: `nobody (${this.file} was deleted)` }
      if (current.token !== this.#mine?.token) return { ranBody: false, owner: describeOwner(current) }
      await body()
      return { ranBody: true }
    })
  }

  #locked<T>(body: () => Promise<T>): Promise<T> {
    return withDirectoryMutex(this.dir, mutexFile, { timeoutMs: mutexTimeoutMs, logger: this.#logger }, body)
  }

  async #read(): Promise<OwnerRecord | undefined> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined
      throw error
    }
    try {
      const record = JSON.parse(text) as OwnerRecord
      if (record.format === 'sluice.file-sink-owner.v1' && typeof record.token === 'string') return record
    } catch {
      // Reported below.
    }
    throw new SluiceError(
      ErrorCodes.SINK,
      `the owner record '${this.file}' of the file sink directory is unreadable; if no sink writes '${this.dir}', delete it`,
      { details: { file: this.file } },
    )
  }
}
