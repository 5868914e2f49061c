import { channel } from 'node:diagnostics_channel'
import type { ReceivedBlock } from './received-block.ts'

/**
 * The life of each received block, for tracing and for tests that must stop a job at an
 * exact step of it (a crash between logging a block and committing its offsets is the one
 * that makes duplicates). Published synchronously as each step completes; costs nothing
 * when nobody subscribes.
 *
 * - `stored`: the block is in memory and, in reliable mode, durably in the received-data log;
 * - `added`: the tracker knows it (durably, in reliable mode): a batch will process it;
 * - `committed`: its offsets are committed to the consumer group (reliable mode only).
 */
export const blockChannel = channel('sluice:receiver:block')

export interface BlockEvent {
  readonly input: string
  readonly step: 'stored' | 'added' | 'committed'
  readonly block: ReceivedBlock
}
