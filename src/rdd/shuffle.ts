import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Aggregator } from './aggregator.ts'
import { type Chunks, MAX_CHUNK_LENGTH } from './chunks.ts'
import type { PipelineStep } from './element-pipeline.ts'
import { turnDue, yieldTurn } from './event-loop-turns.ts'
import { KeyedMap } from './keyed-map.ts'
import type { LineageStep } from './lineage-step.ts'
import type { Rdd } from './rdd.ts'
import type { ShuffleSpec } from './shuffle-options.ts'
import { type MapOutput, ShuffleStage } from './shuffle-stage.ts'
import type { TaskContext } from './task-context.ts'

/**
 * A ShuffledRdd: reduce partition i merges bucket i of every map output, in map-partition
 * order, so each key appears in exactly one partition with its first-seen key value.
 */
export function shuffleStep<K, V, C>(
  parent: Rdd<[K, V]>,
  spec: ShuffleSpec<K>,
  aggregator: Aggregator<V, C>,
  pipeline?: PipelineStep<[K, V]>['pipeline'],
): LineageStep<[K, C]> {
  const stage = new ShuffleStage(parent, spec, aggregator, pipeline)
  return {
    name: 'ShuffledRdd',
    parents: [parent],
    numPartitions: spec.numPartitions,
    prepareStages: async (signal) => {
      await stage.outputs(signal)
    },
    computeChunks: (partition, ctx) => {
      if (!Number.isInteger(partition) || partition < 0 || partition >= spec.numPartitions) {
        throw new SluiceError(
          ErrorCodes.INVALID_ARGUMENT,
          `ShuffledRdd has no partition ${partition} (it has ${spec.numPartitions})`,
        )
      }
      return readReducePartition(stage, aggregator, partition, ctx)
    },
  }
}

async function* readReducePartition<K, V, C>(
  stage: ShuffleStage<K, V, C>,
  aggregator: Aggregator<V, C>,
  partition: number,
  ctx: TaskContext,
): Chunks<[K, C]> {
  // Normally already done: the runner prepares stages before the job. Reached directly (or
  // through a node that hides its parents) this runs the stage on first use.
  const outputs: readonly MapOutput<K, C>[] = await stage.outputs(ctx.signal)
  const merged = new KeyedMap<K, C>()
  for (const output of outputs) {
    const bucket = output[partition]!
    for (let i = 0; i < bucket.length; i++) {
      const entry = bucket[i]!
      const existing = merged.get(entry.key, entry.serialized)
      if (existing === undefined) merged.add(entry.key, entry.serialized, aggregator.own(entry.value))
      else existing.value = aggregator.mergeCombiners(existing.value, entry.value)
      // Map outputs are already in memory: without this, merging them never lets timers run.
      if ((i & 1023) === 1023 && turnDue()) await yieldTurn()
    }
  }
  const entries = merged.entries()
  for (let start = 0; start < entries.length; start += MAX_CHUNK_LENGTH) {
    const end = Math.min(start + MAX_CHUNK_LENGTH, entries.length)
    const chunk = new Array<[K, C]>(end - start)
    for (let i = start; i < end; i++) {
      const entry = entries[i]!
      chunk[i - start] = [entry.key, entry.value]
    }
    yield chunk
  }
}
