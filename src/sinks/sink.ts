import { byPartition, type SinkBatch } from './batch.ts'

/**
 * What `writeBatch` reports: the batch was written now, or it had been written before
 * (a replay after a crash between the sink's commit and the checkpoint's commit entry).
 */
export type BatchOutcome = 'applied' | 'already-applied'

/**
 * Offsets per topic and partition — exactly the `startingOffsets` shape the stream accepts,
 * so a stream can resume from the sink alone: `startingOffsets: await sink.storedOffsets()`.
 */
export type StoredOffsets = Record<string, Record<number, bigint>>

/**
 * The contract of every exactly-once sink: `writeBatch` makes the batch's output and its
 * offsets one atomic fact, so each batch affects the output exactly once however often it
 * is run. `Tx` is what the write function gets to write through.
 */
export interface ExactlyOnceSink<Tx> {
  readonly app: string
  /** Connects and checks what the sink needs; fails here, before any batch, when it cannot work. */
  start(): Promise<void>
  writeBatch(batch: SinkBatch, write: (tx: Tx) => Promise<void>): Promise<BatchOutcome>
  close(): Promise<void>
}

/** A sink that keeps the batches' until-offsets next to the output and can report them. */
export interface OffsetStoringSink<Tx> extends ExactlyOnceSink<Tx> {
  storedOffsets(): Promise<StoredOffsets>
}

/** Builds the StoredOffsets shape from rows, in topic then partition order. */
export function toStoredOffsets(
  rows: Iterable<{ topic: string; partition: number; offset: bigint }>,
): StoredOffsets {
  const sorted = [...rows].sort(byPartition)
  const result: StoredOffsets = {}
  for (const row of sorted) {
    result[row.topic] ??= {}
    result[row.topic]![row.partition] = row.offset
  }
  return result
}
