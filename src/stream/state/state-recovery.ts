import type { CheckpointStore } from '../../checkpoint/checkpoint-store.ts'
import type { StateSnapshot } from '../../checkpoint/state-snapshot-file.ts'
import type { StateSnapshotStore } from '../../checkpoint/state-snapshot-store.ts'
import { ErrorCodes, isSluiceError, messageOf, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'

export interface StateRecoveryInput {
  readonly stream: string
  readonly store: CheckpointStore
  readonly snapshots: StateSnapshotStore
  readonly lastCommittedBatchId: number | undefined
  /** Snapshots newer than C − history are not used, so outputs windows may ask for are recomputed. */
  readonly history: number
  readonly logger: Logger
  /** Loads a verified snapshot into the state; a STATE error marks it unusable. */
  readonly restore: (snapshot: StateSnapshot & { readonly file: string }) => void
}

export interface StateRecoveryResult {
  /** The first committed batch to recompute (the state is at the batch before it); undefined: none. */
  readonly recomputeFrom: number | undefined
  /** Snapshot files kept on disk, ascending. */
  readonly snapshotIds: number[]
  /** Snapshots found unusable (damaged, foreign, undecodable). */
  readonly rejected: number[]
}

/**
 * Where a stateful stream's state comes from at a restart, given the last committed batch C:
 *
 * 1. Snapshots of batches after C are left over from batches that never committed (a
 *    checkpoint restored from an older copy): deleted, never loaded.
 * 2. The newest snapshot S ≤ C − history that reads back intact — trailer, checksums, batch
 *    time matching the offset log, codecs — is loaded; each damaged newer one is reported
 *    with a warning. Batches S+1…C are then recomputed.
 * 3. With none usable, the state is recomputed from batch 0 if the offset log still starts
 *    there; otherwise the stream cannot be recovered exactly and start() refuses, saying why.
 */
export async function recoverFromSnapshots(input: StateRecoveryInput): Promise<StateRecoveryResult> {
  const { stream, store, snapshots, lastCommittedBatchId: committed, history, logger } = input
  let ids = await snapshots.batchIds()
  const stale = ids.filter((id) => committed === undefined || id > committed)
  for (const id of stale) {
    logger.warn('deleting a state snapshot of a batch that is not committed (left over from another run)', {
      stream,
      file: snapshots.fileFor(id),
    })
    await snapshots.remove(id)
  }
  ids = ids.filter((id) => !stale.includes(id))
  if (committed === undefined) return { recomputeFrom: undefined, snapshotIds: ids, rejected: [] }

  const rejected: number[] = []
  const problems: string[] = []
  for (const id of [...ids].reverse()) {
    if (id > committed - history) continue
    try {
      const snapshot = await snapshots.read(id)
      const planned = await store.readPlanned(id)
      if (planned !== undefined && planned.batchTime !== snapshot.batchTime) {
        throw new SluiceError(
          ErrorCodes.STATE,
          `state snapshot '${snapshots.fileFor(id)}' is of batch ${id} at time ${snapshot.batchTime}, but the offset log ` +
            `ran batch ${id} at ${planned.batchTime} (left over from another run of this checkpoint)`,
        )
      }
      input.restore({ ...snapshot, file: snapshots.fileFor(id) })
      if (rejected.length > 0) {
        logger.warn('recovered state from an older snapshot because newer ones are unusable', {
          stream,
          batchId: id,
          unusable: rejected,
        })
      }
      logger.info('loaded a state snapshot', { stream, batchId: id, entries: snapshot.entries.length })
      return { recomputeFrom: id < committed ? id + 1 : undefined, snapshotIds: ids, rejected }
    } catch (error) {
      if (!isSluiceError(error, ErrorCodes.STATE)) throw error
      rejected.push(id)
      problems.push(messageOf(error))
      logger.warn('ignoring an unusable state snapshot; trying the one before it', {
        stream,
        batchId: id,
        error,
      })
    }
  }

  if ((await store.readPlanned(0)) !== undefined) {
    if (ids.length > 0) {
      logger.warn('no usable state snapshot: recomputing the state from batch 0', {
        stream,
        batches: committed + 1,
      })
    }
    return { recomputeFrom: 0, snapshotIds: ids, rejected }
  }
  const why =
    ids.length === 0
      ? `'${snapshots.dir}' holds no snapshot (a stateful stream added to a running job, or renamed? it needs its old name)`
      : problems.length === 0
        ? `no snapshot in '${snapshots.dir}' is old enough (they are newer than batch ${committed - history}, the newest one a recovery can use)`
        : `no snapshot in '${snapshots.dir}' is usable: ${problems.join('; ')}`
  throw new SluiceError(
    ErrorCodes.STATE,
    `cannot recover the state of stream '${stream}' after batch ${committed}: ${why}; and the offset log no longer ` +
      `starts at batch 0, so the state cannot be recomputed from the beginning. Restore '${snapshots.dir}' from a ` +
      `backup, or delete '${store.dir}' to start the whole stream over (that also forgets its offsets)`,
    { details: { stream, lastCommittedBatchId: committed, snapshots: ids, dir: snapshots.dir } },
  )
}
