import type { ResolvedPosition } from './reset-target.ts'
import { textTable } from './text-table.ts'

/** One line of a reset's before/after table. */
export interface ResetLine {
  /** The checkpoint input it belongs to (a sink's offsets have none). */
  readonly input?: string
  readonly topic: string
  readonly partition: number
  readonly parked?: boolean
  readonly current: bigint
  readonly next: ResolvedPosition
}

/** The table `reset` prints, --dry-run or not: CURRENT and NEW per partition, the log's bounds when known. */
export function resetTable(lines: readonly ResetLine[], withBounds: boolean): string {
  const withInput = lines.some((line) => line.input !== undefined)
  const header = [...(withInput ? ['INPUT'] : []), 'TOPIC', 'PARTITION', 'CURRENT', 'NEW']
  if (withBounds) header.push('LOG START', 'LATEST')
  header.push('NOTE')
  const first = withInput ? 1 : 0
  const right = [first + 1, first + 2, first + 3, ...(withBounds ? [first + 4, first + 5] : [])]
  return textTable(
    header,
    lines.map((line) => [
      ...(withInput ? [line.input ?? ''] : []),
      line.parked ? `${line.topic} (parked)` : line.topic,
      String(line.partition),
      line.current.toString(),
      line.next.offset.toString(),
      ...(withBounds ? [String(line.next.logStart ?? '-'), String(line.next.latest ?? '-')] : []),
      line.next.note ?? '',
    ]),
    right,
  )
}
