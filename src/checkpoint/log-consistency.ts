import { inconsistentDirectory } from './checkpoint-errors.ts'

/** Where the two logs end, once they are known to agree. */
export interface LogPositions {
  readonly lastPlannedBatchId?: number
  readonly lastCommittedBatchId?: number
}

function listIds(ids: readonly number[]): string {
  return ids.length === 2 ? `${ids[0]} and ${ids[1]}` : ids.join(', ')
}

/**
 * Checks the two invariants the store maintains, so that a directory edited by hand or
 * damaged on disk is refused instead of resumed from the wrong place: nothing is committed
 * that was never planned, and at most one batch — the newest — is planned but uncommitted.
 * Both id lists are ascending.
 */
export function checkLogConsistency(
  dir: string,
  plannedIds: readonly number[],
  committedIds: readonly number[],
): LogPositions {
  const lastPlannedBatchId = plannedIds.at(-1)
  const lastCommittedBatchId = committedIds.at(-1)
  if (lastCommittedBatchId !== undefined) {
    if (lastPlannedBatchId === undefined) {
      throw inconsistentDirectory(
        dir,
        `batch ${lastCommittedBatchId} is committed but the offset log is empty`,
      )
    }
    if (lastCommittedBatchId > lastPlannedBatchId) {
      throw inconsistentDirectory(
        dir,
        `batch ${lastCommittedBatchId} is committed but the offset log ends at batch ${lastPlannedBatchId}`,
      )
    }
  }
  const uncommitted = plannedIds.filter(
    (id) => lastCommittedBatchId === undefined || id > lastCommittedBatchId,
  )
  if (uncommitted.length > 1) {
    throw inconsistentDirectory(
      dir,
      `batches ${listIds(uncommitted)} are planned but not committed, yet batches run one at a time`,
    )
  }
  return {
    ...(lastPlannedBatchId === undefined ? {} : { lastPlannedBatchId }),
    ...(lastCommittedBatchId === undefined ? {} : { lastCommittedBatchId }),
  }
}
