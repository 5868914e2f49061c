import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts'
import type { Logger } from '../core/logger.ts'
import type { BatchRef } from './batch.ts'
import type { DStream } from './dstream.ts'

/** What a stream with hooks learns when the context starts. */
export interface HookRecovery {
  /** The open checkpoint, if the context has one. */
  readonly store: CheckpointStore | undefined
  /** The newest batch whose outputs all succeeded, if any. */
  readonly lastCommittedBatchId: number | undefined
  /** Earlier batches the job reads per batch (its longest window): outputs of that many batches back may be asked for. */
  readonly history: number
  readonly logger: Logger
}

export interface HookBatchOptions {
  /**
   * True while a restart recomputes committed batches to rebuild state: no output
   * operation runs for them, and nothing beyond the state itself needs computing.
   */
  readonly replay: boolean
  readonly signal: AbortSignal
}

/**
 * How windows and stateful streams take part in the batch loop. Most streams are pure
 * functions of their parents' RDDs and need none of this; a stream that keeps something
 * from batch to batch (a window's previous result, per-key state) gives the context these
 * hooks, and the context calls them in dependency order (parents first):
 *
 * - `recover` once at start, after the checkpoint is open: load durable state and return
 *   the first committed batch that must be recomputed to rebuild it (undefined: none);
 * - `beforeOutputs` for every batch before its output operations run, and for every
 *   recomputed batch at start (with `replay`): compute what the next batch builds on;
 * - `afterBatch` once the batch is committed (or recomputed): write a snapshot when due;
 * - `oldestBatchNeeded` when the checkpoint is pruned: offset-log entries from there on stay;
 * - `memory` for BatchInfo.
 */
export interface BatchHooks {
  /** Names the stream in messages. */
  readonly name: string
  recover?(recovery: HookRecovery): Promise<number | undefined>
  beforeOutputs?(batch: BatchRef, options: HookBatchOptions): Promise<void>
  afterBatch?(batch: BatchRef, options: { readonly replay: boolean }): Promise<void>
  oldestBatchNeeded?(): number | undefined
  memory?(): { readonly keys: number; readonly bytes: number }
}

/**
 * The hooks of every stream that feeds `streams`, each once, parents before children — the
 * order in which a batch's state must be computed.
 */
export function collectHooks(streams: readonly DStream<unknown>[]): BatchHooks[] {
  const ordered: BatchHooks[] = []
  const seenStreams = new Set<DStream<unknown>>()
  const seenHooks = new Set<BatchHooks>()
  const visit = (stream: DStream<unknown>) => {
    if (seenStreams.has(stream)) return
    seenStreams.add(stream)
    for (const parent of stream.parents()) visit(parent)
    const hooks = stream.batchHooks()
    if (hooks && !seenHooks.has(hooks)) {
      seenHooks.add(hooks)
      ordered.push(hooks)
    }
  }
  for (const stream of streams) visit(stream)
  return ordered
}
