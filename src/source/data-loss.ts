import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import type { PositionProblem } from './kafka-batch-planner.ts'

/** What a user can do when data is gone, said the same way in every message. */
const howToGoOn =
  'To go on, either restart with failOnDataLoss: false (the stream then skips what is gone, counts it ' +
  'in BatchInfo.lostRecords and hands it to outputs as batch.lostRanges, which exactly-once sinks record), ' +
  'or move the checkpoint past it with `sluice checkpoint reset <checkpoint dir> --to earliest`.'

function describeProblem(problem: PositionProblem): string {
  const where = `${problem.topic}-${problem.partition}`
  return problem.kind === 'deleted'
    ? `${where} [${problem.position}, ${problem.logStart})`
    : `${where} (the log ends at ${problem.logEnd}, before the stream's position ${problem.position})`
}

/**
 * Planning found positions outside their logs: every partition is named, not just the first.
 * Deleted records come first; then logs that end before the stream's position (a topic
 * deleted and re-created, or a truncated log).
 */
export function planningDataLoss(batchId: number, problems: readonly PositionProblem[]): SluiceError {
  const deleted = problems.filter((p) => p.kind === 'deleted')
  const shrunk = problems.filter((p) => p.kind === 'shrunk')
  const parts: string[] = []
  if (deleted.length > 0) {
    parts.push(
      `records ${deleted.map(describeProblem).join(', ')} were deleted (retention) before the stream read them`,
    )
  }
  if (shrunk.length > 0) {
    parts.push(
      `${shrunk.map(describeProblem).join(', ')} (was the topic deleted and re-created, or the log truncated?)`,
    )
  }
  return new SluiceError(
    ErrorCodes.OFFSET_OUT_OF_RANGE,
    `planning batch ${batchId}: ${parts.join('; and ')}. ${howToGoOn}`,
    {
      details: {
        batchId,
        problems: problems.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          kind: p.kind,
          position: p.position,
          logStart: p.logStart,
          logEnd: p.logEnd,
        })),
      },
    },
  )
}

/**
 * A batch planned by an earlier run cannot be read again: retention deleted (part of) its
 * ranges while it waited to be re-run.
 */
export function rerunDataLoss(
  batchId: number,
  deleted: readonly { readonly range: OffsetRange; readonly logStart: bigint }[],
): SluiceError {
  const ranges = deleted.map(({ range, logStart }) => {
    const wholeRangeGone = logStart >= range.untilOffset
    const end = wholeRangeGone ? range.untilOffset : logStart
    return `${range.topic}-${range.partition} [${range.fromOffset}, ${end}) (the log now starts at ${logStart})`
  })
  return new SluiceError(
    ErrorCodes.OFFSET_OUT_OF_RANGE,
    `batch ${batchId} was planned by an earlier run and cannot be re-run as planned: ` +
      `retention deleted ${ranges.join(', ')} since. ${howToGoOn}`,
    {
      details: {
        batchId,
        deleted: deleted.map(({ range, logStart }) => ({ range: range.toJSON(), logStart })),
      },
    },
  )
}
