import type { SnapshotEntry, StateSnapshot } from '../../checkpoint/state-snapshot-file.ts'
import type { StateSnapshotStore } from '../../checkpoint/state-snapshot-store.ts'
import { ErrorCodes, isSluiceError, SluiceError } from '../../core/errors.ts'
import { bucketOf } from '../../rdd/hash-partitioner.ts'
import { serializedKeyOf } from '../../rdd/key-serializer.ts'
import type { Rdd } from '../../rdd/rdd.ts'
import { fromSource } from '../../rdd/source-rdd.ts'
import type { BatchRef } from '../batch.ts'
import type { DStream } from '../dstream.ts'
import { arrayChunks, collectPartitions, MemoryRdd } from '../memory-rdd.ts'
import type { BatchHooks, HookRecovery } from '../stream-hooks.ts'
import { ENTRY_OVERHEAD, estimateBytes } from './size-estimate.ts'
import { encodeForSnapshot } from './state-codec.ts'
import { applyDelta, type StateEntry, StatePartition } from './state-partition.ts'
import { recoverFromSnapshots } from './state-recovery.ts'
import type { StateSettings } from './state-spec.ts'
import type { PartitionResult, PartitionUpdater } from './state-update.ts'

/** Entries sampled per partition and batch to estimate the state's bytes per key. */
const SIZE_SAMPLES_PER_PARTITION = 8

/** Unique per task attempt (see StateEntry.mark). */
let nextToken = 1

export interface StateEngineInit<K, V, S, U> {
  readonly parent: DStream<[K, V]>
  readonly settings: StateSettings<K, S>
  readonly updater: PartitionUpdater<K, V, S, U>
}

/**
 * The state of one stateful stream (`updateStateByKey`, `mapWithState`) and everything
 * that keeps it exact across crashes.
 *
 * - **Per key, in memory.** The state is a map per partition (keys hashed as shuffles hash
 *   them). Memory grows with the number of keys, never with the backlog: a batch's records
 *   are grouped by key, folded into the state and dropped.
 * - **Materialized per batch.** The state after batch N is computed once, by one job over
 *   the batch's records grouped by key, before the batch's outputs run; batch N + 1 builds
 *   on it. Tasks compute changes without touching the state; the changes are applied once
 *   every task succeeded, so a retried task never applies a change twice.
 * - **Snapshots.** Every `checkpointInterval` batches the state after batch N is written to
 *   `<checkpoint>/state/<name>/N`. Recovery loads the newest usable snapshot S ≤ the last
 *   committed batch C, and the context recomputes batches S+1…C from their logged ranges
 *   (without their outputs) before the pending batch runs.
 */
export class StateEngine<K, V, S, U> {
  readonly name: string
  readonly #parent: DStream<[K, V]>
  readonly #settings: StateSettings<K, S>
  readonly #updater: PartitionUpdater<K, V, S, U>
  /** The state; created at the first batch of a run, when the partition count is known. */
  #partitions: StatePartition<K, S>[] | undefined
  /** Entries restored from a snapshot, spread over the partitions at the first batch. */
  #restored: StateEntry<K, S>[] | undefined
  /** The batch the state is at: -1 before batch 0. */
  #version = -1
  #running: { readonly batchId: number; readonly promise: Promise<void> } | undefined
  /** What `mapWithState` emitted per batch and partition, while the batch is remembered. */
  readonly #emitted = new Map<number, readonly (readonly U[])[]>()
  #bytesPerEntry = ENTRY_OVERHEAD + 32
  #snapshots: StateSnapshotStore | undefined
  /** Snapshot files on disk, ascending; `#rejected` are those recovery found unusable. */
  #snapshotIds: number[] = []
  readonly #rejected = new Set<number>()
  #lastCommitted: number | undefined
  #history = 0

  readonly hooks: BatchHooks

  constructor(init: StateEngineInit<K, V, S, U>) {
    this.#parent = init.parent
    this.#settings = init.settings
    this.#updater = init.updater
    this.name = init.settings.name
    this.hooks = {
      name: this.name,
      recover: (recovery) => this.#recover(recovery),
      beforeOutputs: (batch, { signal }) => this.materialize(batch, signal),
      afterBatch: (batch, { replay }) => this.#afterBatch(batch, replay),
      oldestBatchNeeded: () => this.#oldestBatchNeeded(),
      memory: () => this.#memory(),
    }
  }

  /** Drops the records emitted in batches before `batchId` (the output stream forgets them). */
  forgetEmittedBefore(batchId: number): void {
    for (const id of this.#emitted.keys()) if (id < batchId) this.#emitted.delete(id)
  }

  // ---- the RDDs the stream's outputs read ----

  /** What `mapWithState` emitted in `batch`, partition by partition. */
  outputRdd(batch: BatchRef): Rdd<U> {
    const partitions = this.#partitionsFor(batch)
    return new MemoryRdd<U>(
      partitions.length,
      {
        load: (signal) => this.materialize(batch, signal),
        chunks: (partition) => {
          const emitted = this.#emitted.get(batch.id)
          if (emitted === undefined) throw this.#gone('the records emitted in', batch)
          return arrayChunks(emitted[partition] ?? [])
        },
      },
      this.#parent.context.runner,
      'MapWithStateRdd',
    )
  }

  /** Every key with its state after `batch` (what `updateStateByKey` and `stateSnapshots()` give). */
  snapshotRdd(batch: BatchRef): Rdd<[K, S]> {
    const partitions = this.#partitionsFor(batch)
    return new MemoryRdd<[K, S]>(
      partitions.length,
      {
        load: (signal) => this.materialize(batch, signal),
        chunks: (partition) => {
          if (this.#version !== batch.id) throw this.#gone('the state after', batch)
          return stateChunks(partitions[partition]!)
        },
      },
      this.#parent.context.runner,
      'StateRdd',
    )
  }

  // ---- computing a batch ----

  /** Computes the state after `batch` unless it is already computed (or being computed). */
  materialize(batch: BatchRef, signal?: AbortSignal): Promise<void> {
    if (batch.id <= this.#version) return Promise.resolve()
    if (this.#running?.batchId === batch.id) return this.#running.promise
    if (batch.id !== this.#version + 1 || this.#running !== undefined) {
      return Promise.reject(
        new SluiceError(
          ErrorCodes.STATE,
          `state stream '${this.name}' holds the state after batch ${this.#version} and cannot compute batch ${batch.id} next; ` +
            'batches must be computed in order (this is a bug)',
          { details: { stream: this.name, version: this.#version, batchId: batch.id } },
        ),
      )
    }
    const promise = this.#compute(batch, signal)
    const running = { batchId: batch.id, promise }
    this.#running = running
    const done = () => {
      if (this.#running === running) this.#running = undefined
    }
    promise.then(done, done)
    return promise
  }

  async #compute(batch: BatchRef, signal: AbortSignal | undefined): Promise<void> {
    const partitions = this.#partitionsFor(batch)
    if (this.#version < 0) await this.#applyInitialState(partitions, batch, signal)
    const parentRdd = this.#parent.getOrCompute(batch)
    const runner = this.#parent.context.runner
    const count = partitions.length
    // A batch without data still updates the state: updateStateByKey visits every key, timeouts advance.
    const input: Rdd<[K, V[]]> =
      parentRdd === undefined
        ? fromSource<[K, V[]]>(count, () => [], { runner })
        : parentRdd.groupByKey({ numPartitions: count, keySerializer: this.#settings.keySerializer })
    const results = await runner.runJob(
      input,
      Array.from({ length: count }, (_, i) => i),
      (chunks, ctx) => this.#updater(partitions[ctx.partition]!, chunks, batch, nextToken++, ctx),
      signal ? { signal } : {},
    )
    const reorder = this.#settings.timeout !== undefined
    for (let p = 0; p < count; p++) {
      applyDelta(partitions[p]!, results[p]!.delta, { batchId: batch.id, batchTime: batch.time, reorder })
    }
    this.#emitted.set(
      batch.id,
      results.map((result) => result.emitted),
    )
    // The output stream forgets emitted records as its consumers allow; this bound also holds
    // when nothing reads them (a job that only outputs stateSnapshots()).
    this.forgetEmittedBefore(batch.id - this.#history)
    this.#version = batch.id
    this.#sampleSizes(results)
  }

  /** The state's partitions, created at the first batch of a run (restored entries spread over them). */
  #partitionsFor(batch: BatchRef): StatePartition<K, S>[] {
    if (this.#partitions !== undefined) return this.#partitions
    const count =
      this.#settings.numPartitions ??
      Math.max(1, this.#parent.getOrCompute(batch)?.numPartitions ?? this.#parent.context.runner.concurrency)
    const partitions = Array.from({ length: count }, () => new StatePartition<K, S>())
    for (const entry of this.#restored ?? []) {
      partitions[bucketOf(entry.key, entry.serialized, count)]!.put(entry)
    }
    this.#restored = undefined
    this.#partitions = partitions
    return partitions
  }

  /** The state before batch 0; a key given twice keeps its last state. */
  async #applyInitialState(
    partitions: StatePartition<K, S>[],
    batch: BatchRef,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const initial = this.#settings.initialState
    if (initial === undefined) return
    const pairs = Array.isArray(initial)
      ? (initial as readonly (readonly [K, S])[])
      : (await collectPartitions(initial as Rdd<[K, S]>, signal)).flat()
    for (const [key, state] of pairs) {
      const serialized = serializedKeyOf(key, this.#settings.keySerializer)
      partitions[bucketOf(key, serialized, partitions.length)]!.put({
        key,
        serialized,
        state,
        seenBatch: batch.id,
        seenTime: batch.time,
        mark: 0,
      })
    }
  }

  /** Misuse, not damage: INVALID_ARGUMENT, which fails the job at once instead of being retried. */
  #gone(what: string, batch: BatchRef): SluiceError {
    return new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `state stream '${this.name}' no longer holds ${what} batch ${batch.id} (it holds the state after batch ${this.#version}); ` +
        'a stateful stream keeps only its newest state: read its RDDs while their batch runs',
      { details: { stream: this.name, batchId: batch.id, version: this.#version } },
    )
  }

  // ---- snapshots and recovery ----

  async #recover(recovery: HookRecovery): Promise<number | undefined> {
    this.#history = recovery.history
    this.#lastCommitted = recovery.lastCommittedBatchId
    if (recovery.store === undefined) return undefined
    this.#snapshots = await recovery.store.stateSnapshots(this.name)
    const result = await recoverFromSnapshots({
      stream: this.name,
      store: recovery.store,
      snapshots: this.#snapshots,
      lastCommittedBatchId: recovery.lastCommittedBatchId,
      history: recovery.history,
      logger: recovery.logger,
      restore: (snapshot) => this.#restore(snapshot),
    })
    this.#snapshotIds = result.snapshotIds
    for (const id of result.rejected) this.#rejected.add(id)
    return result.recomputeFrom
  }

  /** Decodes a verified snapshot into the state; a STATE error makes recovery try an older one. */
  #restore(snapshot: StateSnapshot & { readonly file: string }): void {
    const { keyCodec, stateCodec, keySerializer, timeout } = this.#settings
    for (const [role, codec] of [
      ['key', keyCodec],
      ['state', stateCodec],
    ] as const) {
      const written = role === 'key' ? snapshot.keyCodec : snapshot.stateCodec
      if (written !== codec.name) {
        throw new SluiceError(
          ErrorCodes.STATE,
          `state snapshot '${snapshot.file}' was written with ${role}Codec '${written}', but the stream now uses '${codec.name}'`,
        )
      }
    }
    const entries: StateEntry<K, S>[] = []
    snapshot.entries.forEach((line: SnapshotEntry, i) => {
      let key: K
      let state: S
      try {
        key = keyCodec.decode(line[0]!)
        state = stateCodec.decode(line[1]!)
      } catch (error) {
        throw new SluiceError(
          ErrorCodes.STATE,
          `state snapshot '${snapshot.file}': entry ${i + 1} could not be decoded: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
      }
      entries.push({
        key,
        serialized: serializedKeyOf(key, keySerializer),
        state,
        seenBatch: line.length === 4 ? (line[2] as number) : snapshot.batchId,
        seenTime: line.length === 4 ? (line[3] as number) : snapshot.batchTime,
        mark: 0,
      })
    })
    // Timeout scans rely on each map running from the longest idle key; a snapshot lists
    // partition after partition, so entries are put back in idle order (a stable sort).
    if (timeout !== undefined) entries.sort((a, b) => a.seenBatch - b.seenBatch)
    this.#restored = entries
    this.#partitions = undefined
    this.#version = snapshot.batchId
    this.#sampleEntries(entries.slice(0, 64))
  }

  async #afterBatch(batch: BatchRef, replay: boolean): Promise<void> {
    if (!replay) this.#lastCommitted = batch.id
    const snapshots = this.#snapshots
    if (snapshots === undefined || (batch.id + 1) % this.#settings.checkpointInterval !== 0) return
    // At a restart another stream may recompute a batch this one restored past: it holds no state of it.
    if (this.#version !== batch.id) return
    // Recomputing at a restart rewrites only snapshots that are missing or were found unusable.
    if (replay && this.#snapshotIds.includes(batch.id) && !this.#rejected.has(batch.id)) return
    const started = performance.now()
    try {
      await snapshots.write(
        {
          stream: this.name,
          batchId: batch.id,
          batchTime: batch.time,
          keyCodec: this.#settings.keyCodec.name,
          stateCodec: this.#settings.stateCodec.name,
        },
        this.#snapshotEntries(),
      )
    } catch (error) {
      // A value that cannot be encoded fails every snapshot: stop and say so. A failed write
      // is survivable: older snapshots and the offset log they need are kept.
      if (isSluiceError(error, ErrorCodes.STATE)) throw error
      this.#parent.context.logger.warn('writing a state snapshot failed; the next one will be tried', {
        stream: this.name,
        batchId: batch.id,
        error,
      })
      return
    }
    this.#rejected.delete(batch.id)
    if (!this.#snapshotIds.includes(batch.id)) {
      this.#snapshotIds = [...this.#snapshotIds, batch.id].sort((a, b) => a - b)
    }
    this.#parent.context.logger.debug('wrote a state snapshot', {
      stream: this.name,
      batchId: batch.id,
      keys: this.#memory().keys,
      ms: Math.round(performance.now() - started),
    })
    await this.#pruneSnapshots()
  }

  *#snapshotEntries(): Generator<SnapshotEntry> {
    const { keyCodec, stateCodec, timeout } = this.#settings
    const stream = this.name
    const all = this.#partitions?.flatMap((partition) => [partition.entries()]) ?? [this.#restored ?? []]
    for (const entries of all) {
      for (const entry of entries) {
        const key = encodeForSnapshot(keyCodec, entry.key, { stream, role: 'key', key: entry.key })
        const state = encodeForSnapshot(stateCodec, entry.state, { stream, role: 'state', key: entry.key })
        yield timeout === undefined ? [key, state] : [key, state, entry.seenBatch, entry.seenTime]
      }
    }
  }

  /**
   * Snapshots usable for a recovery after the last committed batch C: those ≤ C − history
   * (so that outputs of the batches a window may ask for get recomputed), not found unusable.
   */
  #usableSnapshots(): number[] {
    const limit = (this.#lastCommitted ?? -1) - this.#history
    return this.#snapshotIds.filter((id) => id <= limit && !this.#rejected.has(id))
  }

  /** Keeps the newest usable snapshot, the one before it (in case the newest is damaged) and any newer ones. */
  async #pruneSnapshots(): Promise<void> {
    const usable = this.#usableSnapshots()
    if (usable.length < 2 || this.#snapshots === undefined) return
    const keepFrom = usable[usable.length - 2]!
    try {
      for (const id of this.#snapshotIds.filter((id) => id < keepFrom)) await this.#snapshots.remove(id)
    } catch (error) {
      // An old snapshot left on disk costs space, not correctness: the next prune tries again.
      this.#parent.context.logger.warn('pruning old state snapshots failed', { stream: this.name, error })
      return
    }
    this.#snapshotIds = this.#snapshotIds.filter((id) => id >= keepFrom)
  }

  /**
   * The offset log must keep the batches a recovery would recompute: from the older of the
   * two newest usable snapshots on (minus the history windows need). Until there are two,
   * from batch 0, so that a damaged single snapshot can still be recomputed from scratch.
   */
  #oldestBatchNeeded(): number | undefined {
    if (this.#snapshots === undefined) return undefined
    const usable = this.#usableSnapshots()
    if (usable.length < 2) return 0
    return Math.max(0, usable[usable.length - 2]! - this.#history)
  }

  // ---- memory ----

  #memory(): { keys: number; bytes: number } {
    const keys =
      this.#partitions?.reduce((sum, partition) => sum + partition.size, 0) ?? this.#restored?.length ?? 0
    return { keys, bytes: Math.round(keys * this.#bytesPerEntry) }
  }

  /** Re-estimates bytes per entry from a few of the entries this batch changed (spread over the delta). */
  #sampleSizes(results: readonly PartitionResult<K, S, U>[]): void {
    const samples: { key: unknown; state: unknown }[] = []
    for (const { delta } of results) {
      const stride = Math.max(1, Math.floor(delta.size / SIZE_SAMPLES_PER_PARTITION))
      for (let i = 0; i < delta.size; i += stride) {
        if (!delta.removals[i]) samples.push({ key: delta.keys[i], state: delta.states[i] })
      }
    }
    this.#sampleEntries(samples)
  }

  #sampleEntries(samples: readonly { key: unknown; state: unknown }[]): void {
    if (samples.length === 0) return
    let total = 0
    for (const { key, state } of samples) total += estimateBytes(key) + estimateBytes(state)
    this.#bytesPerEntry = ENTRY_OVERHEAD + total / samples.length
  }
}

/** A partition's [key, state] pairs in chunks, read from the live maps (no copy of the state). */
function* stateChunks<K, S>(partition: StatePartition<K, S>): Generator<readonly [K, S][]> {
  let chunk: [K, S][] = []
  for (const entry of partition.entries()) {
    chunk.push([entry.key, entry.state])
    if (chunk.length === 4096) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
}
