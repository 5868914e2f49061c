import type { ValueKey } from '../../rdd/key-serializer.ts'

/** One key's state. Keys compare like shuffle keys: value keys as themselves, object keys by their serialized form. */
export interface StateEntry<K, S> {
  readonly key: K
  /** The key's serialized form when it is an object key; undefined for value keys. */
  readonly serialized: string | undefined
  state: S
  /** The last batch in which the key received data (its idle time starts there). */
  seenBatch: number
  /** That batch's time, in ms. */
  seenTime: number
  /**
   * Which task attempt last visited the key while computing a batch. A per-attempt token
   * (not a Set of visited keys, which would cost a hash insert per key) — a failed attempt's
   * marks can never be mistaken for the retry's.
   */
  mark: number
}

/**
 * The state of the keys that hash to one partition. Two maps, as in the shuffle's KeyedMap,
 * so a string key never collides with an object key serializing to the same text. Each map
 * keeps insertion order; streams with a timeout re-insert a key whenever it receives data,
 * so each map runs from the longest idle key to the most recent — a timeout scan stops at
 * the first key that is not idle long enough.
 */
export class StatePartition<K, S> {
  readonly #byValue = new Map<ValueKey, StateEntry<K, S>>()
  readonly #bySerialized = new Map<string, StateEntry<K, S>>()

  get size(): number {
    return this.#byValue.size + this.#bySerialized.size
  }

  get(key: K, serialized: string | undefined): StateEntry<K, S> | undefined {
    return serialized === undefined ? this.#byValue.get(key as ValueKey) : this.#bySerialized.get(serialized)
  }

  /** Adds the entry of a key the partition does not hold (one hash lookup, not two). */
  add(entry: StateEntry<K, S>): void {
    if (entry.serialized === undefined) this.#byValue.set(entry.key as ValueKey, entry)
    else this.#bySerialized.set(entry.serialized, entry)
  }

  /** Adds an entry, or replaces the key's entry and moves it last. */
  put(entry: StateEntry<K, S>): void {
    if (entry.serialized === undefined) {
      this.#byValue.delete(entry.key as ValueKey)
      this.#byValue.set(entry.key as ValueKey, entry)
    } else {
      this.#bySerialized.delete(entry.serialized)
      this.#bySerialized.set(entry.serialized, entry)
    }
  }

  remove(entry: StateEntry<K, S>): void {
    if (entry.serialized === undefined) this.#byValue.delete(entry.key as ValueKey)
    else this.#bySerialized.delete(entry.serialized)
  }

  /** Every entry: value keys, then object keys, each in map order. */
  *entries(): Generator<StateEntry<K, S>> {
    yield* this.#byValue.values()
    yield* this.#bySerialized.values()
  }

  /** Each map's entries in order, oldest first when the stream re-inserts on data. */
  maps(): readonly Iterable<StateEntry<K, S>>[] {
    return [this.#byValue.values(), this.#bySerialized.values()]
  }
}

/**
 * The changes a batch makes to one partition, computed by a task without touching the
 * partition (a failed task attempt leaves nothing behind) and applied once every partition
 * of the batch succeeded. Parallel arrays rather than an object per change: a batch of
 * `updateStateByKey` changes every key.
 */
export class PartitionDelta<K, S> {
  readonly existing: (StateEntry<K, S> | undefined)[] = []
  readonly keys: K[] = []
  readonly serialized: (string | undefined)[] = []
  readonly states: (S | undefined)[] = []
  /** False: set the state; true: remove the key. */
  readonly removals: boolean[] = []
  /** Whether the key received data in this batch (its idle time restarts). */
  readonly seen: boolean[] = []

  get size(): number {
    return this.keys.length
  }

  put(
    existing: StateEntry<K, S> | undefined,
    key: K,
    serialized: string | undefined,
    state: S,
    seen: boolean,
  ): void {
    this.existing.push(existing)
    this.keys.push(key)
    this.serialized.push(serialized)
    this.states.push(state)
    this.removals.push(false)
    this.seen.push(seen)
  }

  remove(existing: StateEntry<K, S>): void {
    this.existing.push(existing)
    this.keys.push(existing.key)
    this.serialized.push(existing.serialized)
    this.states.push(undefined)
    this.removals.push(true)
    this.seen.push(false)
  }
}

export interface ApplyOptions {
  readonly batchId: number
  readonly batchTime: number
  /** Move keys that received data to the end of their map (streams with a timeout). */
  readonly reorder: boolean
}

/** Applies a batch's changes to its partition, in the order they were recorded. */
export function applyDelta<K, S>(
  partition: StatePartition<K, S>,
  delta: PartitionDelta<K, S>,
  options: ApplyOptions,
): void {
  const { batchId, batchTime, reorder } = options
  for (let i = 0; i < delta.size; i++) {
    const existing = delta.existing[i]
    if (delta.removals[i]) {
      partition.remove(existing!)
      continue
    }
    const seen = delta.seen[i]!
    if (existing === undefined) {
      // A batch changes each key once, so a key it adds is not in the partition.
      partition.add({
        key: delta.keys[i]!,
        serialized: delta.serialized[i],
        state: delta.states[i] as S,
        seenBatch: batchId,
        seenTime: batchTime,
        mark: 0,
      })
      continue
    }
    existing.state = delta.states[i] as S
    if (seen) {
      existing.seenBatch = batchId
      existing.seenTime = batchTime
      if (reorder) partition.put(existing)
    }
  }
}
