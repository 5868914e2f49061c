import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { errnoCode, readFileIfExists } from './atomic-file.ts'
import { BatchLog } from './batch-log.ts'
import { type LockHolder, readLockHolder } from './checkpoint-lock.ts'
import { type CheckpointMetadata, decodeCheckpointMetadata } from './checkpoint-metadata.ts'
import { type CommittedBatch, decodeCommittedBatch } from './committed-batch.ts'
import { checkLogConsistency } from './log-consistency.ts'
import { decodePlannedBatch, type PlannedBatch } from './planned-batch.ts'
import { readStateSnapshotSummary, type StateSnapshotSummary } from './state-snapshot-file.ts'
import { isValidStateStreamName } from './state-snapshot-store.ts'

/** The batch ids a log holds: its first and last entry (older ones were pruned), and how many. */
export interface LogExtent {
  readonly first: number
  readonly last: number
  readonly count: number
}

/** A stateful stream's snapshots in the checkpoint. */
export interface StateStreamView {
  readonly stream: string
  /** Batch ids with a snapshot file, ascending. */
  readonly batchIds: readonly number[]
  /** What the newest snapshot's trailer says, or why it cannot be read. */
  readonly newest?: StateSnapshotSummary | { readonly batchId: number; readonly error: string }
}

/** A checkpoint directory as it stands, read without taking its lock or writing anything. */
export interface CheckpointView {
  /** Absolute path. */
  readonly dir: string
  readonly metadata: CheckpointMetadata & { readonly version: number }
  /** The process using the directory, if any (`unreadable`: its lock file cannot be parsed). */
  readonly lock: LockHolder | { readonly unreadable: true } | undefined
  readonly offsetLog: LogExtent | undefined
  readonly commitLog: LogExtent | undefined
  /** The newest offset log entry, committed or not. */
  readonly lastPlanned: PlannedBatch | undefined
  /** The newest commit log entry. */
  readonly lastCommitted: CommittedBatch | undefined
  /** The newest planned batch when it is not committed: a restart re-runs it. */
  readonly pending: PlannedBatch | undefined
  readonly stateStreams: readonly StateStreamView[]
}

/** A running job moves its logs on while they are read; read again this many times. */
const MAX_READ_ATTEMPTS = 5

/**
 * Reads a checkpoint directory without locking or changing it, so it works while a job runs
 * (the job writes every file atomically, so each file read is whole; the logs are listed
 * commit log first, so that a batch committed meanwhile is never seen committed but not
 * planned). A path that is not a checkpoint directory fails with `SLUICE_CHECKPOINT`; it is
 * never created.
 */
export async function readCheckpoint(path: string): Promise<CheckpointView> {
  const dir = resolve(path)
  await checkIsCheckpoint(dir)
  let lastError: unknown
  for (let attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
    try {
      return await readOnce(dir)
    } catch (error) {
      lastError = error
      // A damaged directory stays damaged; one a live job is changing reads well a moment later.
      const lock = await readLockHolder(dir)
      if (lock === undefined || 'unreadable' in lock || lock.alive === false) throw error
      await sleep(50 * attempt)
    }
  }
  throw lastError
}

async function checkIsCheckpoint(dir: string): Promise<void> {
  let isDirectory: boolean
  try {
    isDirectory = (await stat(dir)).isDirectory()
  } catch (error) {
    throw notACheckpoint(
      dir,
      errnoCode(error) === 'ENOENT' ? 'it does not exist' : `it cannot be read: ${messageOf(error)}`,
    )
  }
  if (!isDirectory) throw notACheckpoint(dir, 'it is not a directory')
}

function notACheckpoint(dir: string, why: string): SluiceError {
  return new SluiceError(ErrorCodes.CHECKPOINT, `'${dir}' is not a sluice checkpoint directory: ${why}`, {
    details: { dir, reason: 'not-a-checkpoint' },
  })
}

async function readOnce(dir: string): Promise<CheckpointView> {
  const metadataFile = join(dir, 'metadata')
  const metadataText = await readFileIfExists(metadataFile)
  if (metadataText === undefined) throw notACheckpoint(dir, "it has no 'metadata' file")
  const metadata = decodeCheckpointMetadata(metadataText, metadataFile, dir)
  const lock = await readLockHolder(dir)
  const commits = new BatchLog(join(dir, 'commits'))
  const offsets = new BatchLog(join(dir, 'offsets'))
  const committedIds = await commits.batchIds()
  const plannedIds = await offsets.batchIds()
  const { lastPlannedBatchId, lastCommittedBatchId } = checkLogConsistency(dir, plannedIds, committedIds)
  const lastPlanned =
    lastPlannedBatchId === undefined
      ? undefined
      : await readEntry(offsets, dir, lastPlannedBatchId, decodePlannedBatch)
  const lastCommitted =
    lastCommittedBatchId === undefined
      ? undefined
      : await readEntry(commits, dir, lastCommittedBatchId, decodeCommittedBatch)
  return {
    dir,
    metadata: { ...metadata, version: metadata.version ?? 1 },
    lock,
    offsetLog: extentOf(plannedIds),
    commitLog: extentOf(committedIds),
    lastPlanned,
    lastCommitted,
    pending:
      lastPlanned !== undefined && lastPlannedBatchId !== lastCommittedBatchId ? lastPlanned : undefined,
    stateStreams: await readStateStreams(dir),
  }
}

async function readEntry<T>(
  log: BatchLog,
  dir: string,
  batchId: number,
  decode: (text: string, file: string, dir: string, batchId: number) => T,
): Promise<T> {
  const text = await log.read(batchId)
  if (text === undefined) {
    throw new SluiceError(ErrorCodes.CHECKPOINT, `'${log.fileFor(batchId)}' disappeared while it was read`, {
      details: { dir, batchId },
    })
  }
  return decode(text, log.fileFor(batchId), dir, batchId)
}

function extentOf(ids: readonly number[]): LogExtent | undefined {
  return ids.length === 0 ? undefined : { first: ids[0]!, last: ids.at(-1)!, count: ids.length }
}

async function readStateStreams(dir: string): Promise<StateStreamView[]> {
  let names: string[]
  try {
    names = (await readdir(join(dir, 'state'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && isValidStateStreamName(entry.name))
      .map((entry) => entry.name)
      .sort()
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return []
    throw error
  }
  const streams: StateStreamView[] = []
  for (const stream of names) {
    const files = new BatchLog(join(dir, 'state', stream))
    const batchIds = await files.batchIds()
    const newestId = batchIds.at(-1)
    let newest: StateStreamView['newest']
    if (newestId !== undefined) {
      try {
        newest = await readStateSnapshotSummary(files.fileFor(newestId))
      } catch (error) {
        newest = { batchId: newestId, error: messageOf(error) }
      }
    }
    streams.push({ stream, batchIds, ...(newest === undefined ? {} : { newest }) })
  }
  return streams
}
