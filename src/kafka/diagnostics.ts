import { channel } from 'node:diagnostics_channel'

/**
 * Diagnostics channels, one per wire operation, for tracing and for tests that must prove
 * how much was read (e.g. that `take(5)` or `count()` fetched only what it needed).
 * Publishing costs nothing when nobody subscribes.
 */
export const fetchChannel = channel('sluice:kafka:fetch')

export interface FetchEvent {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly maxBytes: number
}
