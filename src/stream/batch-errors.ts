import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { Batch } from './batch.ts'

/** Ranges listed in a batch error message before it says "and N more". */
const rangesInMessage = 8

/**
 * The error that stops a stream when a batch fails. It names the batch and its ranges, which
 * a restart re-runs unchanged because the batch was never committed.
 */
export function batchFailed(
  batch: Batch | undefined,
  output: { index: number; name: string } | undefined,
  cause: unknown,
): SluiceError {
  if (!batch) {
    return new SluiceError(ErrorCodes.BATCH_FAILED, `the stream failed: ${messageOf(cause)}`, { cause })
  }
  const ranges = batch.offsetRanges.filter((r) => !r.isEmpty).map(String)
  const shown = ranges.slice(0, rangesInMessage).join(', ')
  const more = ranges.length > rangesInMessage ? ` and ${ranges.length - rangesInMessage} more` : ''
  const where = output ? ` in output operation #${output.index + 1} (${output.name})` : ''
  return new SluiceError(
    ErrorCodes.BATCH_FAILED,
    `batch ${batch.id} (time ${batch.time}) failed${where}: ${messageOf(cause)}. ` +
      (shown === ''
        ? 'It was not committed; a restart re-runs it'
        : `It was not committed; a restart re-runs its ranges: ${shown}${more}`),
    {
      cause,
      details: {
        batchId: batch.id,
        batchTime: batch.time,
        offsetRanges: batch.offsetRanges.map((r) => r.toJSON()),
      },
    },
  )
}
