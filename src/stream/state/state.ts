import { ErrorCodes, SluiceError } from '../../core/errors.ts'

/**
 * A key's state as `mapWithState`'s function sees it (Spark's `State`). Reading and
 * changing it are checked: misuse is a bug in the job, so it fails the batch at once
 * (SLUICE_INVALID_ARGUMENT, never retried) rather than silently doing nothing.
 */
export interface State<S> {
  /** Whether the key has a state. */
  exists(): boolean
  /** The key's state; throws when it has none (check `exists()` or use `getOption()`). */
  get(): S
  /** The key's state, or undefined when it has none. */
  getOption(): S | undefined
  /** Sets the key's state. Not allowed on a key that is timing out. */
  update(state: S): void
  /** Removes the key and its state. Not allowed on a key that is timing out. */
  remove(): void
  /**
   * True on the last call for a key that received no data for longer than the timeout:
   * the key is removed after this call whatever the function does.
   */
  isTimingOut(): boolean
}

function misuse(message: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, message)
}

/** The engine's side of a State: it reads back what the function did. */
export class StateImpl<S> implements State<S> {
  #exists: boolean
  #value: S | undefined
  readonly #timingOut: boolean
  #updated = false
  #removed = false

  constructor(exists: boolean, value: S | undefined, timingOut = false) {
    this.#exists = exists
    this.#value = value
    this.#timingOut = timingOut
  }

  get updated(): boolean {
    return this.#updated
  }

  get removed(): boolean {
    return this.#removed
  }

  exists(): boolean {
    return this.#exists
  }

  get(): S {
    if (!this.#exists) throw misuse('State.get(): the key has no state; check exists() or use getOption()')
    return this.#value as S
  }

  getOption(): S | undefined {
    return this.#exists ? this.#value : undefined
  }

  update(state: S): void {
    if (this.#timingOut) throw misuse('State.update(): the key is timing out and will be removed')
    if (this.#removed) throw misuse('State.update(): the state was removed in this call')
    if (state === undefined)
      throw misuse('State.update(): the state cannot be undefined; call remove() instead')
    this.#exists = true
    this.#value = state
    this.#updated = true
  }

  remove(): void {
    if (this.#timingOut) throw misuse('State.remove(): the key is timing out and is removed anyway')
    if (this.#removed) throw misuse('State.remove(): the state was already removed')
    this.#exists = false
    this.#value = undefined
    this.#removed = true
    this.#updated = false
  }

  isTimingOut(): boolean {
    return this.#timingOut
  }
}
