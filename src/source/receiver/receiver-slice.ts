import { partitionKey } from '../../core/partition-key.ts'
import { type DeadLetters, noDeadLetters } from '../../kafka/dead-letters.ts'
import type { KafkaRecord, PayloadDecoder } from '../../kafka/records.ts'
import type { Rdd } from '../../rdd/rdd.ts'
import type { TaskRunner } from '../../rdd/task-runner.ts'
import type { PartitionProgress, ReadCounters, SourceProgress } from '../../stream/batch-progress.ts'
import type { InputBatch, InputSlice } from '../../stream/input-dstream.ts'
import type { ClientLease } from '../client-lease.ts'
import type { UndecodableRecords } from '../undecodable-records.ts'
import type { ReceivedBlock } from './received-block.ts'
import { type BlockReader, ReceivedBlockRdd } from './received-block-rdd.ts'
import type { ReceiverPlan } from './receiver-plan.ts'

export interface ReceiverSliceInit<K, V> {
  readonly input: { readonly name: string; readonly kind: string }
  readonly plan: ReceiverPlan
  /** The plan's blocks a batch can still read (all of them, unless some were lost). */
  readonly readable: readonly ReceivedBlock[]
  /** Records the batch accounts as lost: its blocks that are gone, and what a restart found lost. */
  readonly lostRecords: number
  readonly reader: BlockReader
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
  readonly runner: TaskRunner
  /** The batch's undecodable records, under the 'skip' or dead-letter policy. */
  readonly undecodable: UndecodableRecords | undefined
  /** Sends the dead letters no output took. */
  readonly lease: ClientLease
}

/**
 * A receiver stream's share of a batch: the blocks allocated to it, described for the
 * progress record, and the block RDD that reads them. A receiver stream has no Kafka offset
 * ranges to offer outputs (its blocks are whatever the consumer delivered, re-deliveries
 * included), so `offsetRanges` is empty and offset-keeping sinks cannot be fed from it; the
 * per-partition offsets the blocks cover are in the progress record.
 */
export class ReceiverSlice<K, V> implements InputSlice<KafkaRecord<K, V>> {
  readonly plan: ReceiverPlan
  readonly readable: readonly ReceivedBlock[]
  readonly progress: SourceProgress
  readonly offsetRanges = []
  readonly lostRanges = []
  readonly #init: ReceiverSliceInit<K, V>

  constructor(init: ReceiverSliceInit<K, V>) {
    this.#init = init
    this.plan = init.plan
    this.readable = init.readable
    const partitions = partitionsOf(init.plan.blocks)
    const records = init.readable.reduce((sum, block) => sum + block.records, 0)
    const blocks = init.plan.blocks.length
    this.progress = {
      input: init.input.name,
      kind: init.input.kind,
      description:
        blocks === 0
          ? 'no blocks'
          : `${blocks} block${blocks === 1 ? '' : 's'}: ${partitions.map((p) => `${p.topic}-${p.partition} [${p.fromOffset}, ${p.untilOffset})`).join(' ')}`,
      rateLimit: init.plan.rateLimit,
      numInputRecords: records,
      lostRecords: init.lostRecords,
      partitions,
    }
  }

  rdd(_batch: InputBatch): Rdd<KafkaRecord<K, V>> {
    const { readable, reader, key, value, runner, input, undecodable } = this.#init
    return new ReceivedBlockRdd({
      blocks: readable,
      reader,
      key,
      value,
      runner,
      input: input.name,
      undecodable,
    })
  }

  get deadLetters(): DeadLetters {
    return this.#init.undecodable ?? noDeadLetters
  }

  readCounters(): ReadCounters {
    return this.#init.undecodable?.counts ?? { skippedRecords: 0, deadLetteredRecords: 0 }
  }

  /**
   * Sends the dead letters no output took, before the batch commits. At least once, whatever
   * the output: a batch re-run after a crash finds them again in the same blocks, and a record
   * Kafka delivers again (the receiver's own at-least-once window) is refused again.
   */
  async beforeCommit(): Promise<void> {
    await this.#init.undecodable?.sendPending(this.#init.lease)
  }
}

/** Per partition, the offsets the blocks cover (first to last) and how many records they hold. */
function partitionsOf(blocks: readonly ReceivedBlock[]): PartitionProgress[] {
  const byPartition = new Map<
    string,
    { topic: string; partition: number; from: bigint; until: bigint; records: number }
  >()
  for (const block of blocks) {
    for (const span of block.spans) {
      const key = partitionKey(span.topic, span.partition)
      const known = byPartition.get(key)
      if (known === undefined) {
        byPartition.set(key, {
          topic: span.topic,
          partition: span.partition,
          from: span.fromOffset,
          until: span.untilOffset,
          records: span.records,
        })
      } else {
        if (span.fromOffset < known.from) known.from = span.fromOffset
        if (span.untilOffset > known.until) known.until = span.untilOffset
        known.records += span.records
      }
    }
  }
  return [...byPartition.values()]
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    .map((p) => ({
      topic: p.topic,
      partition: p.partition,
      fromOffset: p.from.toString(),
      untilOffset: p.until.toString(),
      latestOffset: null,
      lag: null,
      records: p.records,
    }))
}
