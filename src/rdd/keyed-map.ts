import type { ValueKey } from './key-serializer.ts'

/** One key's slot: the first-seen key value, its serialized form (object keys only) and its value. */
export interface KeyedEntry<K, C> {
  readonly key: K
  readonly serialized: string | undefined
  value: C
}

/**
 * A map that compares keys by value: value keys as themselves (so `1` and `1n` differ, as in a
 * Map), object keys by their serialized form. Two inner maps keep a string key from colliding
 * with an object key that serializes to the same text. Entries keep first-seen order.
 */
export class KeyedMap<K, C> {
  readonly #byValue = new Map<ValueKey, KeyedEntry<K, C>>()
  readonly #bySerialized = new Map<string, KeyedEntry<K, C>>()
  readonly #entries: KeyedEntry<K, C>[] = []

  get size(): number {
    return this.#entries.length
  }

  /** `serialized` must be `serializedKeyOf(key, ...)`: undefined exactly for value keys. */
  get(key: K, serialized: string | undefined): KeyedEntry<K, C> | undefined {
    return serialized === undefined ? this.#byValue.get(key as ValueKey) : this.#bySerialized.get(serialized)
  }

  /** Adds a key that `get` did not find. */
  add(key: K, serialized: string | undefined, value: C): KeyedEntry<K, C> {
    const entry: KeyedEntry<K, C> = { key, serialized, value }
    if (serialized === undefined) this.#byValue.set(key as ValueKey, entry)
    else this.#bySerialized.set(serialized, entry)
    this.#entries.push(entry)
    return entry
  }

  /** Entries in the order their keys were first added. */
  entries(): readonly KeyedEntry<K, C>[] {
    return this.#entries
  }
}
