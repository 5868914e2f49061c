/**
 * How a shuffle combines the values of one key (Spark's Aggregator). The map side builds a
 * combiner per key and bucket; the reduce side merges the combiners of every map output.
 * Map outputs are kept for later actions and task retries, so they must never change: the
 * reduce side first takes an `own` copy of a stored combiner and only ever mutates copies.
 */
export interface Aggregator<V, C> {
  createCombiner(value: V): C
  /** May mutate and return `combiner` (it belongs to the running map task). */
  mergeValue(combiner: C, value: V): C
  /** May mutate and return `target` (an owned copy); must not mutate `source`. */
  mergeCombiners(target: C, source: C): C
  /** A copy of a stored combiner that the reduce side may mutate. */
  own(combiner: C): C
}

/** reduceByKey: values are combined with `fn`, which must return a new value, not mutate one. */
export function reduceAggregator<V>(fn: (a: V, b: V) => V): Aggregator<V, V> {
  return {
    createCombiner: (value) => value,
    mergeValue: fn,
    mergeCombiners: fn,
    own: (combiner) => combiner,
  }
}

export function groupAggregator<V>(): Aggregator<V, V[]> {
  return {
    createCombiner: (value) => [value],
    mergeValue: (values, value) => {
      values.push(value)
      return values
    },
    mergeCombiners: appendAll,
    own: (values) => values.slice(),
  }
}

/** A value of a cogroup's input, marked with the side it came from. */
export type Sided<V, W> =
  | { readonly side: 'left'; readonly value: V }
  | { readonly side: 'right'; readonly value: W }

export function cogroupAggregator<V, W>(): Aggregator<Sided<V, W>, [V[], W[]]> {
  const add = (groups: [V[], W[]], sided: Sided<V, W>): [V[], W[]] => {
    if (sided.side === 'left') groups[0].push(sided.value)
    else groups[1].push(sided.value)
    return groups
  }
  return {
    createCombiner: (sided) => add([[], []], sided),
    mergeValue: add,
    mergeCombiners: (target, source) => {
      appendAll(target[0], source[0])
      appendAll(target[1], source[1])
      return target
    },
    own: ([left, right]) => [left.slice(), right.slice()],
  }
}

/** push(...source) overflows the call stack for large arrays; a loop does not. */
function appendAll<T>(target: T[], source: readonly T[]): T[] {
  for (let i = 0; i < source.length; i++) target.push(source[i]!)
  return target
}
