import { channel } from 'node:diagnostics_channel'
import type { ReceivedBlock } from './received-block.ts'

/**
 * Every receiver stream publishes each block on this channel as it completes a step of its
 * life — for tracing, and for tests that must stop a job at an exact step (a crash between
 * logging a block and committing its offsets is the one that makes duplicates). Subscribe
 * with `diagnostics_channel.subscribe(receiverBlockChannelName, onMessage)`; the message is
 * published synchronously as the step completes, and costs nothing while nobody listens.
 */
export const receiverBlockChannelName = 'sluice:receiver:block'

/** The message a receiver publishes on `receiverBlockChannelName`. */
export interface ReceiverBlockEvent {
  /** The receiver stream's input name. */
  readonly input: string
  /**
   * - `stored`: in memory and, in reliable mode, durably in the received-data log;
   * - `added`: the tracker knows it (durably, in reliable mode): a batch will process it;
   * - `committed`: its offsets are committed to the consumer group (reliable mode only).
   */
  readonly step: 'stored' | 'added' | 'committed'
  readonly block: ReceivedBlock
}

export const receiverBlockChannel = channel(receiverBlockChannelName)
