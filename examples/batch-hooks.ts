// Optional hooks around a batch's output, shared by the sink examples. Applications leave
// them out; the crash and zombie tests use them to stop a job at an exact moment of a batch.
import type { Batch, BatchOutcome } from '../src/index.ts'

export interface BatchHooks {
  /** The batch's output is computed; its transaction has not begun. */
  readonly beforeTransaction?: (batch: Batch) => Promise<void> | void
  /** Inside the batch's transaction: the output is written, the commit has not happened. */
  readonly inTransaction?: (batch: Batch) => Promise<void> | void
  /** The sink committed the batch (or found it committed); the checkpoint commit has not happened. */
  readonly afterCommit?: (batch: Batch, outcome: BatchOutcome) => Promise<void> | void
}
