import { join, resolve } from 'node:path'
import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import {
  booleanOption,
  functionOption,
  integerOption,
  loggerOption,
  nonEmptyString,
  optionsObject,
  parseOptions,
  required,
} from '../core/options.ts'
import { createDirectoryDurably, readFileIfExists, removeTempFiles, writeFileAtomic } from './atomic-file.ts'
import { BatchLog } from './batch-log.ts'
import { CHECKPOINT_FORMAT_VERSION, inconsistentDirectory } from './checkpoint-errors.ts'
import { CheckpointLock } from './checkpoint-lock.ts'
import {
  assertSameApplication,
  type CheckpointMetadata,
  decodeCheckpointMetadata,
  encodeCheckpointMetadata,
} from './checkpoint-metadata.ts'
import { type CommittedBatch, decodeCommittedBatch, encodeCommittedBatch } from './committed-batch.ts'
import type { JsonObject } from './json-value.ts'
import { checkLogConsistency } from './log-consistency.ts'
import { decodePlannedBatch, encodePlannedBatch, type PlannedBatch } from './planned-batch.ts'
import { StateSnapshotStore } from './state-snapshot-store.ts'

export interface CheckpointStoreOptions {
  /** The application's name. A directory first used by another name is refused. */
  appName: string
  /** How many of the newest batches `prune()` keeps in each log. Default 100. */
  retain?: number
  /** Where warnings go (stale lock taken over, leftovers of interrupted writes). */
  logger?: Logger
  /** Milliseconds since the epoch, for `createdAt`, `committedAt` and the lock. Default `Date.now`. */
  clock?: () => number
  /**
   * Refuse a directory that is not a checkpoint yet instead of creating one — for tools that
   * change an existing checkpoint, where a mistyped path must not become a new, empty one.
   */
  mustExist?: boolean
}

/** What a restarting stream needs to know to carry on exactly where it stopped. */
export interface RecoveryView {
  /** The newest batch whose outputs all succeeded. */
  readonly lastCommittedBatchId?: number
  /** The newest planned batch when it is not committed: re-run it with exactly these plans. */
  readonly pendingBatch?: PlannedBatch
  /** The newest planned batch, committed or not: plan the next batch from where it ends. */
  readonly latestEntry?: PlannedBatch
  /** The id the next newly planned batch gets (0 for a new directory). */
  readonly nextBatchId: number
}

export interface PruneOptions {
  /** Entries of this batch and newer are kept whatever `retain` says (windows and state still need them). */
  keepFromBatchId?: number
}

/** Batch ids whose entries `prune()` deleted, ascending. */
export interface PruneResult {
  readonly planned: number[]
  readonly committed: number[]
}

export const DEFAULT_RETAIN = 100

const METADATA_FILE = 'metadata'

interface ResolvedOptions {
  appName: string
  retain: number
  logger: Logger
  clock: () => number
  mustExist: boolean
}

const storeOptions = optionsObject({
  appName: required(nonEmptyString),
  retain: integerOption({ min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'batches to keep' }),
  logger: loggerOption,
  clock: functionOption<() => number>(),
  mustExist: booleanOption,
})

function resolveOptions(options: CheckpointStoreOptions): ResolvedOptions {
  const {
    appName,
    retain = DEFAULT_RETAIN,
    logger,
    clock = Date.now,
    mustExist = false,
  } = parseOptions(storeOptions, options, 'CheckpointStore')
  return {
    appName,
    retain,
    logger: (logger ?? createLogger()).child({ component: 'checkpoint' }),
    clock,
    mustExist,
  }
}

function assertBatchId(value: unknown, name = 'batchId'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `${name} must be a non-negative integer, got ${describeValue(value)}`,
    )
  }
}

function misuse(message: string, batchId: number): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, message, { details: { batchId } })
}

/**
 * The streaming engine's durable memory, in one directory:
 *
 * - `offsets/<batchId>`: the plan of each batch (batch time, and per input its plan and soft
 *   state), written durably before any task of the batch runs;
 * - `commits/<batchId>`: written once every output operation of the batch succeeded;
 * - `metadata`: the owning application, written when the directory is first used;
 * - `lock`: held by the one live process using the directory.
 *
 * Every file is versioned, checksummed plain JSON, so checkpoints survive code changes.
 * The store enforces the engine's order — plan N, commit N, plan N+1 — and is driven by
 * one caller at a time; it does not queue concurrent calls.
 */
export class CheckpointStore {
  /** Absolute path of the checkpoint directory. */
  readonly dir: string
  readonly appName: string
  /** When the directory was first used, in milliseconds since the epoch. */
  readonly createdAt: number
  readonly retain: number
  readonly #options: ResolvedOptions
  readonly #lock: CheckpointLock
  readonly #offsets: BatchLog
  readonly #commits: BatchLog
  #lastPlanned: number | undefined
  #lastCommitted: number | undefined
  #closed = false

  private constructor(
    dir: string,
    options: ResolvedOptions,
    metadata: CheckpointMetadata,
    lock: CheckpointLock,
    logs: { offsets: BatchLog; commits: BatchLog; lastPlanned?: number; lastCommitted?: number },
  ) {
    this.dir = dir
    this.appName = metadata.appName
    this.createdAt = metadata.createdAt
    this.retain = options.retain
    this.#options = options
    this.#lock = lock
    this.#offsets = logs.offsets
    this.#commits = logs.commits
    this.#lastPlanned = logs.lastPlanned
    this.#lastCommitted = logs.lastCommitted
  }

  /**
   * Opens (creating if needed) the checkpoint directory `dir` for `options.appName` and
   * locks it. Refuses, with a `CHECKPOINT` error, a directory of another application, of an
   * unknown format version, or whose logs are damaged or disagree; refuses, with
   * `CHECKPOINT_LOCKED`, a directory another live process holds.
   */
  static async open(dir: string, options: CheckpointStoreOptions): Promise<CheckpointStore> {
    const resolved = resolveOptions(options)
    const root = resolve(dir)
    if (resolved.mustExist && (await readFileIfExists(join(root, METADATA_FILE))) === undefined) {
      throw new SluiceError(
        ErrorCodes.CHECKPOINT,
        `'${root}' is not a sluice checkpoint directory: it has no '${METADATA_FILE}' file`,
        { details: { dir: root, reason: 'not-a-checkpoint' } },
      )
    }
    await createDirectoryDurably(root)
    const lock = await CheckpointLock.acquire(root, { logger: resolved.logger, clock: resolved.clock })
    try {
      const offsets = new BatchLog(join(root, 'offsets'))
      const commits = new BatchLog(join(root, 'commits'))
      const metadata = await loadOrCreateMetadata(root, resolved, offsets, commits)
      await offsets.create()
      await commits.create()
      const leftovers = [
        ...(await removeTempFiles(root)),
        ...(await offsets.removeTempFiles()).map((name) => `offsets/${name}`),
        ...(await commits.removeTempFiles()).map((name) => `commits/${name}`),
      ]
      if (leftovers.length > 0) {
        resolved.logger.info('removed temp files of interrupted checkpoint writes', {
          dir: root,
          files: leftovers,
        })
      }
      const positions = checkLogConsistency(root, await offsets.batchIds(), await commits.batchIds())
      return new CheckpointStore(root, resolved, metadata, lock, {
        offsets,
        commits,
        lastPlanned: positions.lastPlannedBatchId,
        lastCommitted: positions.lastCommittedBatchId,
      })
    } catch (error) {
      await lock.release()
      throw error
    }
  }

  /** Where to resume: the pending batch to re-run (if any) and the id of the next batch. */
  async recover(): Promise<RecoveryView> {
    this.#assertOpen()
    const lastPlanned = this.#lastPlanned
    const lastCommitted = this.#lastCommitted
    const nextBatchId = (lastPlanned ?? -1) + 1
    if (lastPlanned === undefined) return { nextBatchId }
    const latestEntry = await this.#readPlannedOrFail(lastPlanned)
    return {
      ...(lastCommitted === undefined ? {} : { lastCommittedBatchId: lastCommitted }),
      ...(lastPlanned === lastCommitted ? {} : { pendingBatch: latestEntry }),
      latestEntry,
      nextBatchId,
    }
  }

  /**
   * Durably records the plan of the next batch; returns once it is on disk, so its tasks
   * may start. The batch must have the next batch id and the previous batch must be
   * committed: a pending batch is re-run with its recorded plans, never planned again.
   */
  async writePlanned(batch: PlannedBatch): Promise<void> {
    this.#assertOpen()
    const text = encodePlannedBatch(batch)
    const { batchId } = batch
    const pending = this.#pendingBatchId()
    if (pending === batchId) {
      throw misuse(
        `cannot plan batch ${batchId} again: it is already planned; re-run it with its recorded plans`,
        batchId,
      )
    }
    if (pending !== undefined) {
      throw misuse(
        `cannot plan batch ${batchId}: batch ${pending} is planned but not committed, and batches run one at a time`,
        batchId,
      )
    }
    const nextBatchId = (this.#lastPlanned ?? -1) + 1
    if (batchId !== nextBatchId) {
      throw misuse(`cannot plan batch ${batchId}: the next batch id is ${nextBatchId}`, batchId)
    }
    await this.#offsets.write(batchId, text)
    this.#lastPlanned = batchId
  }

  /**
   * Durably records that every output operation of the pending batch `batchId` succeeded.
   * `info` is optional plain JSON about the outputs, kept with the commit.
   */
  async writeCommitted(batchId: number, info?: JsonObject): Promise<void> {
    this.#assertOpen()
    assertBatchId(batchId)
    if (this.#lastPlanned === undefined || batchId > this.#lastPlanned) {
      throw misuse(`cannot commit batch ${batchId}: it was never planned`, batchId)
    }
    if (this.#lastCommitted !== undefined && batchId <= this.#lastCommitted) {
      throw misuse(`cannot commit batch ${batchId}: it is already committed`, batchId)
    }
    if (batchId !== this.#lastPlanned) {
      throw misuse(
        `cannot commit batch ${batchId}: only the newest planned batch (${this.#lastPlanned}) can be committed`,
        batchId,
      )
    }
    const committed: CommittedBatch = {
      batchId,
      committedAt: this.#options.clock(),
      ...(info === undefined ? {} : { info }),
    }
    await this.#commits.write(batchId, encodeCommittedBatch(committed))
    this.#lastCommitted = batchId
  }

  /**
   * Records an operator's move of the positions (`sluice checkpoint reset`) as a batch that
   * reads nothing and is committed at once: its plans say where each input resumes. It
   * replaces the pending batch when there is one — that batch is abandoned, never re-run —
   * and is the next batch otherwise. Plan, then commit, each written durably as for any
   * batch: a crash between the two leaves a pending batch that reads nothing, and re-running
   * it only commits it. Recovery, windows and state see an ordinary, empty batch.
   */
  async writeReset(batch: PlannedBatch, info: JsonObject): Promise<void> {
    this.#assertOpen()
    const text = encodePlannedBatch(batch)
    const expected = this.#pendingBatchId() ?? (this.#lastPlanned ?? -1) + 1
    if (batch.batchId !== expected) {
      throw misuse(
        `cannot record a reset as batch ${batch.batchId}: it must be batch ${expected} ` +
          `(${this.#pendingBatchId() === undefined ? 'the next batch' : 'the pending batch, which it replaces'})`,
        batch.batchId,
      )
    }
    await this.#offsets.write(batch.batchId, text)
    this.#lastPlanned = batch.batchId
    await this.writeCommitted(batch.batchId, info)
  }

  /** The offset log entry of `batchId`, or undefined if there is none (never planned, or pruned). */
  async readPlanned(batchId: number): Promise<PlannedBatch | undefined> {
    this.#assertOpen()
    assertBatchId(batchId)
    const text = await this.#offsets.read(batchId)
    return text === undefined
      ? undefined
      : decodePlannedBatch(text, this.#offsets.fileFor(batchId), this.dir, batchId)
  }

  /**
   * The offset log entries of batches `fromBatchId` to `toBatchId`, both included, in
   * order — for windows, which re-read the ranges of recent batches. A missing entry is an
   * error rather than a gap: a window silently missing a batch would be wrong.
   */
  async readPlannedBatches(fromBatchId: number, toBatchId: number): Promise<PlannedBatch[]> {
    this.#assertOpen()
    assertBatchId(fromBatchId, 'fromBatchId')
    assertBatchId(toBatchId, 'toBatchId')
    if (toBatchId < fromBatchId) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `toBatchId (${toBatchId}) must not be below fromBatchId (${fromBatchId})`,
      )
    }
    const batches: PlannedBatch[] = []
    for (let batchId = fromBatchId; batchId <= toBatchId; batchId++) {
      batches.push(await this.#readPlannedOrFail(batchId))
    }
    return batches
  }

  /** The commit log entry of `batchId`, or undefined if it is not committed (or was pruned). */
  async readCommitted(batchId: number): Promise<CommittedBatch | undefined> {
    this.#assertOpen()
    assertBatchId(batchId)
    const text = await this.#commits.read(batchId)
    return text === undefined
      ? undefined
      : decodeCommittedBatch(text, this.#commits.fileFor(batchId), this.dir, batchId)
  }

  /**
   * Deletes old entries: both logs keep the newest `retain` planned batches, and also every
   * batch from `keepFromBatchId` on. The newest commit is always kept, so the last
   * committed batch stays known even when `retain` is 1 and a batch is pending.
   */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    this.#assertOpen()
    const { keepFromBatchId } = options
    if (keepFromBatchId !== undefined) assertBatchId(keepFromBatchId, 'keepFromBatchId')
    if (this.#lastPlanned === undefined) return { planned: [], committed: [] }
    let cutoff = this.#lastPlanned - this.retain + 1
    if (keepFromBatchId !== undefined) cutoff = Math.min(cutoff, keepFromBatchId)
    const commitCutoff = Math.min(cutoff, this.#lastCommitted ?? cutoff)
    const planned = (await this.#offsets.batchIds()).filter((id) => id < cutoff)
    const committed = (await this.#commits.batchIds()).filter((id) => id < commitCutoff)
    for (const id of planned) await this.#offsets.remove(id)
    for (const id of committed) await this.#commits.remove(id)
    return { planned, committed }
  }

  /**
   * The state snapshots of the stateful stream `stream` (`<dir>/state/<stream>/`), created on
   * first use. Which snapshots to keep is the stream's business: `prune()` does not touch them.
   */
  async stateSnapshots(stream: string): Promise<StateSnapshotStore> {
    this.#assertOpen()
    return StateSnapshotStore.open(this.dir, stream, this.#options.logger)
  }

  /** Releases the lock. The store cannot be used afterwards; closing again does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#lock.release()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #pendingBatchId(): number | undefined {
    return this.#lastPlanned === this.#lastCommitted ? undefined : this.#lastPlanned
  }

  async #readPlannedOrFail(batchId: number): Promise<PlannedBatch> {
    const batch = await this.readPlanned(batchId)
    if (batch !== undefined) return batch
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `offset log has no entry for batch ${batchId} ('${this.#offsets.fileFor(batchId)}'): ` +
        'it was pruned or never planned',
      { details: { dir: this.dir, batchId } },
    )
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError(ErrorCodes.CLOSED, `checkpoint store for '${this.dir}' is closed`, {
        details: { dir: this.dir },
      })
    }
  }
}

/**
 * Reads `<dir>/metadata`, or writes it when the directory is new. A directory whose logs
 * have entries but no metadata file was damaged or assembled by hand and is refused.
 */
async function loadOrCreateMetadata(
  dir: string,
  options: ResolvedOptions,
  offsets: BatchLog,
  commits: BatchLog,
): Promise<CheckpointMetadata> {
  const file = join(dir, METADATA_FILE)
  const text = await readFileIfExists(file)
  if (text !== undefined) {
    const metadata = decodeCheckpointMetadata(text, file, dir)
    assertSameApplication(metadata, options.appName, dir)
    if (metadata.version !== undefined && metadata.version < CHECKPOINT_FORMAT_VERSION) {
      // From now on every file is written in the current format; older log entries are read
      // (and upgraded in memory) as they are, so the directory is never rewritten wholesale.
      // Rewriting the metadata marks the directory: an older sluice refuses it instead of
      // mixing older entries after newer ones.
      await writeFileAtomic(file, encodeCheckpointMetadata(metadata))
      options.logger.info('upgraded the checkpoint format', {
        dir,
        from: metadata.version,
        to: CHECKPOINT_FORMAT_VERSION,
      })
    }
    return { appName: metadata.appName, createdAt: metadata.createdAt, version: CHECKPOINT_FORMAT_VERSION }
  }
  for (const log of [offsets, commits]) {
    if ((await log.batchIds()).length > 0)
      throw inconsistentDirectory(dir, `'${log.dir}' has entries but '${file}' is missing`)
  }
  const metadata: CheckpointMetadata = {
    appName: options.appName,
    createdAt: options.clock(),
    version: CHECKPOINT_FORMAT_VERSION,
  }
  await writeFileAtomic(file, encodeCheckpointMetadata(metadata))
  options.logger.info('created checkpoint directory', { dir, appName: metadata.appName })
  return metadata
}
