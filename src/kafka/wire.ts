import { type Base, kGetApi } from '@platformatic/kafka'

/**
 * The one file that reaches past @platformatic/kafka's public client methods. sluice sends a
 * few requests itself — ListOffsets with leader epochs and isolation level, Fetch with its
 * own response parser, TxnOffsetCommit without group membership, FindCoordinator — and for
 * those it needs the wire client's version negotiation (`kGetApi`, a symbol the package
 * exports for its own subclasses) and the parsed response it attaches to partition errors.
 * When the wire client changes, this is the file to look at.
 */

// biome-ignore lint/suspicious/noExplicitAny: the wire client's low-level API functions are variadic
export type LowLevelApi = { version: number; async: (connection: unknown, ...args: any[]) => Promise<any> }

/**
 * The highest version of API `name` that both this wire client and the connected brokers
 * speak. Failures (the version request needs a connection) come back as the wire client's
 * own errors, for the caller's retry loop to classify and describe.
 */
export function negotiatedApi(client: Base, name: string): Promise<LowLevelApi> {
  return new Promise((resolve, reject) => {
    client[kGetApi](name, (error, api) => (error ? reject(error) : resolve(api as unknown as LowLevelApi)))
  })
}

/**
 * The wire client throws when any partition in a response carries an error code, attaching
 * the parsed response. sluice wants the per-partition codes itself, so it takes the response back.
 */
export async function callAllowingPartitionErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const response = (error as { response?: T } | null)?.response
    if (response !== undefined && response !== null) return response
    throw error
  }
}
