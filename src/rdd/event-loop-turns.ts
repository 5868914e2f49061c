import { setImmediate } from 'node:timers'

/**
 * Longest stretch a task runs on promise continuations alone before it hands the event loop
 * a turn. A task whose data is already in memory (a shuffle's reduce side, an in-memory
 * source, a fetch decoded slice by slice) chains microtasks only, and microtasks never let
 * timers, socket reads or HTTP requests in: heartbeats, the UI and `setTimeout` would wait
 * for the whole job. 20 ms keeps them responsive and costs one `setImmediate` per slice.
 */
export const TURN_INTERVAL_MS = 20

/** When the event loop last reached its check phase, as seen by the marker below. */
let lastTurnAt = performance.now()
let markerPending = false

/**
 * True when the event loop has had no turn for TURN_INTERVAL_MS. Cheap enough to call once
 * per chunk: a clock read, and at most one pending `setImmediate` marker that records the
 * next turn, so a task that waits on the network (and so lets the loop turn by itself) is
 * never made to yield as well.
 */
export function turnDue(): boolean {
  const now = performance.now()
  if (!markerPending) {
    markerPending = true
    setImmediate(markTurn).unref()
  }
  return now - lastTurnAt >= TURN_INTERVAL_MS
}

function markTurn(): void {
  markerPending = false
  lastTurnAt = performance.now()
}

/** Lets timers and I/O run, then continues. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The chunks of a partition, handing the event loop a turn between chunks when one is due. */
export async function* withEventLoopTurns<T>(
  chunks: AsyncIterable<readonly T[]>,
): AsyncIterable<readonly T[]> {
  for await (const chunk of chunks) {
    yield chunk
    if (turnDue()) await yieldTurn()
  }
}
