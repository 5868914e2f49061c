import { type DeadLetters, noDeadLetters } from '../kafka/dead-letters.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import type { BatchRef } from './batch.ts'
import type { SourceProgress } from './batch-progress.ts'
import type { InputDStream, InputSlice } from './input-dstream.ts'

/** A batch whose plans are known: planned now, or read back from the checkpoint. */
export interface BatchScope {
  readonly ref: BatchRef
  /** Planned by an earlier run (the pending batch of a restart, or a batch read back for windows and state). */
  readonly replay: boolean
  /** Each input's slice of the batch; an input that planned nothing has none. */
  readonly slices: ReadonlyMap<InputDStream<unknown>, InputSlice<unknown>>
  /** When planning started (clock ms); for a replay, when it was read back. */
  readonly planningStartedAt: number
  /** How long planning (and logging the plan) took, in ms. */
  readonly planningMs: number
}

/** What the outputs of a batch are told about its inputs, from its slices. */
export function sourcesOf(scope: BatchScope): {
  readonly sources: SourceProgress[]
  readonly offsetRanges: OffsetRange[]
  readonly lostRanges: OffsetRange[]
  readonly deadLetters: DeadLetters
} {
  const slices = [...scope.slices.values()]
  const outboxes = slices.flatMap((slice) => (slice.deadLetters === undefined ? [] : [slice.deadLetters]))
  return {
    sources: slices.map((slice) => slice.progress),
    offsetRanges: slices.flatMap((slice) => slice.offsetRanges),
    lostRanges: slices.flatMap((slice) => slice.lostRanges),
    deadLetters:
      outboxes.length === 0
        ? noDeadLetters
        : outboxes.length === 1
          ? outboxes[0]!
          : {
              pending: () => outboxes.flatMap((outbox) => outbox.pending()),
              markSent: (records) => {
                for (const outbox of outboxes) outbox.markSent(records)
              },
            },
  }
}

/**
 * The batches the driver can still build RDDs for: the running one, and as many before it
 * as the job's longest window reads back. Streams find their input's slice of a batch here.
 */
export class KnownBatches {
  readonly #scopes = new Map<number, BatchScope>()

  set(scope: BatchScope): void {
    this.#scopes.set(scope.ref.id, scope)
  }

  get(id: number): BatchScope | undefined {
    return this.#scopes.get(id)
  }

  sliceOf(input: InputDStream<unknown>, id: number): InputSlice<unknown> | undefined {
    return this.#scopes.get(id)?.slices.get(input)
  }

  /** Forgets the batches before `id`. */
  forgetBefore(id: number): void {
    for (const known of this.#scopes.keys()) if (known < id) this.#scopes.delete(known)
  }
}
