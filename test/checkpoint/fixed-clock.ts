/** A clock pinned to 2023-11-14T22:13:20.000Z, so times written to disk are exact. */
export const FIXED_TIME = 1_700_000_000_000
export const fixedClock = (): number => FIXED_TIME
