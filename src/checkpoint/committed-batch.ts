import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { openBatchEntry } from './batch-entry.ts'
import { assertJsonObject, type JsonObject } from './json-value.ts'
import { seal } from './sealed-json.ts'

/** One commit log entry: every output operation of batch `batchId` succeeded. */
export interface CommittedBatch {
  readonly batchId: number
  /** When the commit was recorded, in milliseconds since the epoch. */
  readonly committedAt: number
  /** Optional plain-JSON facts about the outputs (record counts, sink transaction ids...). */
  readonly info?: JsonObject
}

export function encodeCommittedBatch(batch: CommittedBatch): string {
  if (batch.info !== undefined) assertJsonObject(batch.info, `commit info of batch ${batch.batchId}`, 'info')
  if (!Number.isSafeInteger(batch.committedAt) || batch.committedAt < 0) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `commit of batch ${batch.batchId}: committedAt must be a non-negative integer (ms), got ${batch.committedAt}`,
    )
  }
  return seal({
    batchId: batch.batchId,
    committedAt: batch.committedAt,
    ...(batch.info === undefined ? {} : { info: batch.info }),
  })
}

export function decodeCommittedBatch(
  text: string,
  file: string,
  dir: string,
  expectedBatchId: number,
): CommittedBatch {
  const { fields, read, batchId } = openBatchEntry(text, file, dir, expectedBatchId)
  const committedAt = read.nonNegativeInteger(fields.committedAt, 'committedAt')
  const info = read.optionalObject(fields.info, 'info')
  return { batchId, committedAt, ...(info === undefined ? {} : { info }) }
}
