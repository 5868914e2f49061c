import type { Rdd } from '../rdd/rdd.ts'
import type { WindowCombiner } from '../stream/reduce-window.ts'
import { type PythonStages, type StagedRdd, withOperation } from './python-plan.ts'
import type { FunctionDigest, PyBlob } from './stage.ts'

export interface PythonWindowFunctions {
  /** The reduce function, associative and commutative. */
  readonly fn: FunctionDigest
  /** Its inverse: `inv(fn(a, b), b) == a`. */
  readonly inv: FunctionDigest
  /** Keeps a `(key, value)` pair in the window's result when true. */
  readonly filter: FunctionDigest | null
  /** Functions tagging a `(key, value)` pair with its side: previous result, leaving, entering. */
  readonly tags: readonly [FunctionDigest, FunctionDigest, FunctionDigest]
}

function pickled(rdd: Rdd<PyBlob>): StagedRdd {
  return { base: rdd, input: { kind: 'pickled' }, ops: [] }
}

/**
 * `reduce_by_key_and_window(fn, inv_fn, ...)` for Python: the engine's incremental window
 * (previous result − leaving batches + entering batches, recomputed from scratch after a
 * restart) over blobs of (key, value) pairs. Each window's keys are cogrouped by side in a
 * Python shuffle, and a worker computes each key's new value with the user's functions; a
 * key that left without being in the previous result makes the worker say so, and the
 * window is recomputed from scratch.
 */
export function pythonWindowCombiner(
  stages: PythonStages,
  functions: PythonWindowFunctions,
): WindowCombiner<PyBlob> {
  const { fn, inv, filter, tags } = functions
  return {
    fromScratch(rdds, numPartitions) {
      const reduced = stages.shuffle(stages.union(rdds.map(pickled)), { kind: 'reduce', fn }, numPartitions)
      return stages.materialize(filter === null ? reduced : withOperation(reduced, ['filter', filter]))
    },
    async incremental(previous, leaving, entering, numPartitions, signal) {
      const tagged = [
        withOperation(pickled(previous), ['map', tags[0]]),
        ...leaving.map((rdd) => withOperation(pickled(rdd), ['map', tags[1]])),
        ...entering.map((rdd) => withOperation(pickled(rdd), ['map', tags[2]])),
      ]
      const sides = stages.shuffle(stages.union(tagged), { kind: 'cogroup', sides: 3 }, numPartitions)
      const results = (await stages.runJob(
        sides,
        { kind: 'window', fn, inv, filter },
        undefined,
        signal,
      )) as [inconsistent: boolean, blobs: [number, Buffer][]][]
      if (results.some(([inconsistent]) => inconsistent)) return undefined
      return results.map(([, blobs]) => blobs.map(([count, data]) => ({ count, data })))
    },
  }
}
