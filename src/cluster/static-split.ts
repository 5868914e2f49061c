import { randomUUID } from 'node:crypto'
import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { OwnershipCheck, OwnershipLease, PartitionOwnership } from './partition-ownership.ts'

/** Which share of the partitions one process of a static split takes. */
export interface StaticSplitOptions {
  /** This process's index, from 0 to `of - 1`. */
  readonly instance: number
  /** How many processes share the partitions. */
  readonly of: number
  /**
   * The deployment's epoch: raise it whenever the split changes (another `of`) or a deployment
   * replaces another. Partitions claimed under a higher epoch are refused to this process.
   */
  readonly epoch: number
}

/**
 * The instance of `of` that takes a partition: a hash of the topic name plus the partition
 * number, modulo `of`. Consecutive partitions of a topic go to consecutive instances, so a
 * topic's partitions spread evenly whatever its name; the topic's hash shifts where it starts.
 */
export function splitInstanceOf(topic: string, partition: number, of: number): number {
  return (fnv1a32(topic) + partition) % of
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`: stable across processes and versions. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/**
 * Partitions shared by a fixed split, without a consumer group: instance i of N takes the
 * partitions with `splitInstanceOf(topic, partition, N) === i`, and nothing moves while the
 * processes run; to rescale, restart every instance with the new N and a higher epoch. The
 * fencing token is the epoch, and each run of a process has its own member id, so a restarted
 * instance also takes its partitions over from a stalled earlier run of itself.
 */
export class StaticSplitOwnership implements PartitionOwnership {
  readonly movesPartitions = false
  readonly #options: StaticSplitOptions
  readonly #lease: OwnershipLease

  constructor(options: StaticSplitOptions) {
    this.#options = options
    const owner: PartitionOwner = {
      kind: 'split',
      groupId: `split-${options.of}`,
      generation: options.epoch,
      memberId: `instance-${options.instance}-of-${options.of}-${randomUUID()}`,
    }
    this.#lease = {
      owner,
      owns: (topic, partition) => splitInstanceOf(topic, partition, options.of) === options.instance,
      signal: new AbortController().signal,
    }
  }

  get description(): string {
    const { instance, of, epoch } = this.#options
    return `static split: instance ${instance} of ${of}, epoch ${epoch}`
  }

  async start(): Promise<void> {}

  async beginBatch(): Promise<OwnershipLease> {
    return this.#lease
  }

  endBatch(): void {}

  topicsChanged(): void {}

  /** A split has no coordinator: its lease stays current, and a refused batch is a real conflict. */
  async check(): Promise<OwnershipCheck> {
    return 'current'
  }

  async close(): Promise<void> {}
}
