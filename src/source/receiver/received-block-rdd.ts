import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import type { KafkaRecord, PayloadDecoder, UndecodableRecord } from '../../kafka/records.ts'
import type { Chunks } from '../../rdd/chunks.ts'
import { type ActionOptions, Rdd } from '../../rdd/rdd.ts'
import type { TaskContext } from '../../rdd/task-context.ts'
import type { TaskRunner } from '../../rdd/task-runner.ts'
import type { UndecodableRecords } from '../undecodable-records.ts'
import { decodeBlockRecords } from './block-codec.ts'
import { type ReceivedBlock, spanRanges } from './received-block.ts'

/** Where a block's bytes are found: memory, or the write-ahead log. */
export interface BlockReader {
  read(block: ReceivedBlock): Promise<Buffer | undefined>
}

export interface ReceivedBlockRddInit<K, V> {
  readonly blocks: readonly ReceivedBlock[]
  readonly reader: BlockReader
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
  readonly runner: TaskRunner
  /** Names the input in messages. */
  readonly input: string
  /** Where undecodable records go, when the policy is not 'fail' (one per batch). */
  readonly undecodable?: UndecodableRecords | undefined
}

/**
 * The RDD of a receiver stream's batch (Spark's WriteAheadLogBackedBlockRDD): one partition
 * per block allocated to the batch, so a batch has about batchInterval / blockInterval
 * partitions. A task reads its block from memory, where the receiver put it, or — after a
 * restart, when memory is gone — from the write-ahead log, checking its checksum; either
 * way the bytes are decoded with the stream's deserializers only then, so a batch re-run from
 * the log refuses the same records the first run did.
 */
export class ReceivedBlockRdd<K, V> extends Rdd<KafkaRecord<K, V>> {
  readonly blocks: readonly ReceivedBlock[]
  readonly numPartitions: number
  readonly #init: ReceivedBlockRddInit<K, V>

  constructor(init: ReceivedBlockRddInit<K, V>) {
    super({ runner: init.runner })
    this.blocks = Object.freeze([...init.blocks])
    this.numPartitions = this.blocks.length
    this.#init = init
  }

  computeChunks(partition: number, _task: TaskContext): Chunks<KafkaRecord<K, V>> {
    const block = this.blocks[partition]!
    const { reader, key, value, input, undecodable } = this.#init
    // The block and the record's place in it: a record Kafka delivered twice is two records of the input.
    const onUndecodable =
      undecodable === undefined
        ? undefined
        : (record: UndecodableRecord, index: number) => undecodable.take(record, `${block.id}#${index}`)
    return (async function* readBlock() {
      const bytes = await reader.read(block)
      if (bytes === undefined) {
        throw new SluiceError(
          ErrorCodes.STATE,
          `receiver stream '${input}': block ${block.id} is no longer held (it was in memory only, and that ` +
            `process is gone); its records are ${spanRanges(block.spans).map(String).join(' ')}`,
          { details: { input, block: block.id } },
        )
      }
      yield* decodeBlockRecords(bytes, key, value, onUndecodable)
    })()
  }

  override describePartition(partition: number): string {
    const block = this.blocks[partition]
    if (block === undefined) return super.describePartition(partition)
    return `block ${block.id} (${spanRanges(block.spans).map(String).join(' ')})`
  }

  /** From the blocks' descriptions, reading nothing — unless undecodable records may be left out. */
  override async count(options: ActionOptions = {}): Promise<number> {
    if (this.#init.undecodable !== undefined) return super.count(options)
    return this.blocks.reduce((sum, block) => sum + block.records, 0)
  }

  override async isEmpty(options: ActionOptions = {}): Promise<boolean> {
    if (this.blocks.every((block) => block.records === 0)) return true
    if (this.#init.undecodable !== undefined) return super.isEmpty(options)
    return false
  }
}
