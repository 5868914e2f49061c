// Shared fixtures for the stream tests: a replayable in-memory input and helpers to run a
// context for an exact number of batches.
import type { JsonValue } from '../../src/checkpoint/json-value.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { fromSource } from '../../src/rdd/source-rdd.ts'
import type { BatchInfo, BatchRef } from '../../src/stream/batch.ts'
import { InputDStream, type InputRecovery, type InputSlice } from '../../src/stream/input-dstream.ts'
import type { SourcePosition } from '../../src/stream/listener.ts'
import type { StreamingContext } from '../../src/stream/streaming-context.ts'
import { rangesOfPlan, rangesPlan, rangesSlice } from '../helpers/fake-input.ts'

export interface SyntheticOptions<T> {
  readonly partitions: number
  /** Offsets each partition contributes to a batch at most. */
  readonly perBatch: number
  /** Offsets available per partition: batches after the data ran out are empty. */
  readonly available: number
  /** The record at `offset` of `partition`: a pure function, so every re-read gives the same data. */
  readonly record: (partition: number, offset: number) => T
  /** Names the input's ranges in the checkpoint; keep it across restarts. Default 'synthetic'. */
  readonly topic?: string
}

/**
 * An input that behaves like a Kafka topic whose data never changes: batch b reads offsets
 * [b·perBatch, (b+1)·perBatch) of every partition (fewer once `available` is reached), and
 * any range can be read again — which is all recovery relies on. Batches depend only on
 * batch ids, never on timing, so runs can be compared exactly.
 */
export class SyntheticInput<T> extends InputDStream<T> {
  readonly kind = 'synthetic'
  readonly topic: string
  readonly options: SyntheticOptions<T>
  /** Offsets read, per partition, summed over every read (re-reads included). */
  readonly reads: number[]
  available: number
  readonly #positions: bigint[]

  constructor(context: StreamingContext, options: SyntheticOptions<T>) {
    super(context, {
      name: options.topic ?? 'synthetic',
      defaultPrefix: 'synthetic',
      owner: 'SyntheticInput',
    })
    this.topic = options.topic ?? 'synthetic'
    this.options = options
    this.available = options.available
    this.reads = Array.from({ length: options.partitions }, () => 0)
    this.#positions = Array.from({ length: options.partitions }, () => 0n)
  }

  async open(recovery: InputRecovery): Promise<void> {
    for (const range of rangesOfPlan(recovery.lastPlan)) this.#positions[range.partition] = range.untilOffset
  }

  position(): Omit<SourcePosition, 'input' | 'kind'> {
    return { fresh: false, description: this.#positions.join(', '), offsets: [] }
  }

  async plan(_batch: BatchRef): Promise<JsonValue> {
    const ranges = this.#positions.map((from, partition) => {
      const until = BigInt(Math.min(Number(from) + this.options.perBatch, this.available))
      const end = until > from ? until : from
      this.#positions[partition] = end
      return OffsetRange.create(this.topic, partition, from, end)
    })
    return rangesPlan(ranges)
  }

  slice(plan: JsonValue): InputSlice<T> {
    return rangesSlice(this, rangesOfPlan(plan), (ranges) =>
      fromSource(
        Math.max(1, ranges.length),
        (partition) => {
          const range = ranges[partition]
          const records: T[] = []
          if (range) {
            for (let o = Number(range.fromOffset); o < Number(range.untilOffset); o++) {
              records.push(this.options.record(range.partition, o))
            }
            this.reads[range.partition]! += records.length
          }
          return [records]
        },
        { runner: this.context.runner },
      ),
    )
  }

  async close(): Promise<void> {}
}

/** The ids of the batches whose data is offsets [from, until) of each partition. */
export function offsetsOfBatch(batchId: number, perBatch: number, available: number): [number, number] {
  return [Math.min(batchId * perBatch, available), Math.min((batchId + 1) * perBatch, available)]
}

/**
 * Starts `ssc`, lets it run until batch `lastBatchId` has completed, then stops it gracefully
 * (no batch after it is planned). Returns the BatchInfo of every batch that completed.
 */
export async function runThrough(ssc: StreamingContext, lastBatchId: number): Promise<BatchInfo[]> {
  const infos: BatchInfo[] = []
  ssc.addListener({
    onBatchCompleted: (info) => {
      infos.push(info)
      if (info.id >= lastBatchId) void ssc.stop()
    },
  })
  await ssc.start()
  await ssc.awaitTermination()
  return infos
}

/** Pairs sorted by key (then value), for comparing results whose order is not specified. */
export function sorted<K, V>(pairs: readonly (readonly [K, V])[]): [K, V][] {
  return pairs
    .map(([k, v]): [K, V] => [k, v])
    .sort((a, b) => {
      const ka = JSON.stringify(a[0])
      const kb = JSON.stringify(b[0])
      return ka < kb ? -1 : ka > kb ? 1 : JSON.stringify(a[1]) < JSON.stringify(b[1]) ? -1 : 1
    })
}
