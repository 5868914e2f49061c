/** Where a sink stores one partition's position: the until-offset of the last batch it wrote. */
export interface StoredPosition {
  readonly topic: string
  readonly partition: number
  /** The next offset the job reads there when it resumes from the sink. */
  readonly offset: bigint
  /** The batch that wrote it, and that batch's time (ms since epoch), when the store keeps them. */
  readonly batchId?: number
  readonly batchTime?: number
  /** Records the stream skipped there because retention deleted them first, over every batch. */
  readonly lostRecords?: bigint
  /** The store's own data kept with the offset (the Kafka group's offset metadata). */
  readonly metadata?: string
}

/** One partition a reset moves. */
export interface OffsetMove {
  readonly topic: string
  readonly partition: number
  readonly from: bigint
  readonly to: bigint
}

/**
 * What `sluice offsets show|reset` needs from a sink's offset store (the SQL sink's offsets
 * table, the Kafka sink's consumer group). `reset` reads the positions where a running job
 * cannot move them meanwhile (under the store's lock or fence), asks `plan` for the moves,
 * and applies them atomically — or, for a dry run, applies nothing. It refuses with
 * SLUICE_OFFSETS_IN_USE while a batch is being written.
 */
export interface OffsetsAdmin {
  readonly app: string
  /** Where the offsets are, for messages: "table sluice_offsets in SQLite file /x.db". */
  readonly where: string
  read(): Promise<StoredPosition[]>
  /** Who uses the store now, one line each ("group 'sluice-wc': Empty, 0 members"); empty when the store cannot tell. */
  activity(): Promise<string[]>
  reset(
    plan: (current: readonly StoredPosition[]) => Promise<readonly OffsetMove[]>,
    options: { readonly dryRun: boolean },
  ): Promise<readonly OffsetMove[]>
  close(): Promise<void>
}
