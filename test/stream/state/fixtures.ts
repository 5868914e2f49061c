// The data and job shared by the state tests: a synthetic keyed input and the running totals it implies.
import { silentLogger } from '../../../src/core/logger.ts'
import { StreamingContext } from '../../../src/stream/streaming-context.ts'
import { SyntheticInput, sorted } from '../support.ts'

export const partitions = 2
export const perBatch = 5
export const available = 50 // batches 0..9 have data
/** Record `offset` of `partition`: key k0..k10, value the offset. */
export const record = (partition: number, offset: number): [string, number] => [
  `k${(partition * 13 + offset * 7) % 11}`,
  offset,
]

/** The records of batch `id`, partition by partition. */
export function recordsOfBatch(id: number): [string, number][] {
  const records: [string, number][] = []
  for (let p = 0; p < partitions; p++) {
    for (let o = id * perBatch; o < Math.min((id + 1) * perBatch, available); o++) records.push(record(p, o))
  }
  return records
}

/** Totals per key after batch `id` (a running sum over batches 0..id). */
export function totalsAfter(id: number, initial: [string, number][] = []): [string, number][] {
  const totals = new Map<string, number>(initial)
  for (let b = 0; b <= id; b++) {
    for (const [key, value] of recordsOfBatch(b)) totals.set(key, (totals.get(key) ?? 0) + value)
  }
  return sorted([...totals])
}

export function context(
  extra: Partial<ConstructorParameters<typeof StreamingContext>[0]> = {},
): StreamingContext {
  return new StreamingContext({ appName: 'state', batchInterval: 10, logger: silentLogger, ...extra })
}

export function syntheticInput(ssc: StreamingContext) {
  return new SyntheticInput(ssc, { partitions, perBatch, available, record })
}
