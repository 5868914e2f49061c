import type { ProduceRecord } from './types.ts'

/**
 * A batch's records that could not be deserialized, on their way to a dead-letter topic
 * (`onDeserializationError: { deadLetterTopic }`). They are found as the batch's data is
 * read. A sink that writes the batch in one Kafka transaction (the Kafka sink) sends them in
 * it — so they appear exactly once — and marks them sent; whatever no sink took, the stream
 * sends itself before it commits the batch (at least once: a crash in between sends them
 * again when the batch is re-run).
 */
export interface DeadLetters {
  /** The dead letters found so far that nobody has sent, as records to produce. */
  pending(): readonly ProduceRecord[]
  /** Marks records `pending()` returned as sent (in a re-run: as sent by the run that wrote the batch). */
  markSent(records: readonly ProduceRecord[]): void
}

/** The dead letters of a batch that has none (its inputs send nothing to a dead-letter topic). */
export const noDeadLetters: DeadLetters = Object.freeze({ pending: () => [], markSent: () => {} })
