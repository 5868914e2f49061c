import { invalidOption } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import {
  customOption,
  durationMs,
  integerOption,
  MAX_INT32,
  nonEmptyString,
  optionPath,
  optionsObject,
  positiveInteger,
  required,
} from '../core/options.ts'
import type { ResolvedClientOptions } from '../kafka/options.ts'
import { GroupOwnership } from './group-ownership.ts'
import { isPartitionOffsetStore, type PartitionOffsetStore } from './offset-store.ts'
import type { PartitionOwnership } from './partition-ownership.ts'
import { type StaticSplitOptions, StaticSplitOwnership } from './static-split.ts'

/** Membership in a Kafka consumer group that shares a stream's partitions among processes. */
export interface GroupOptions {
  /** The consumer group: every process of the job uses the same id. */
  readonly id: string
  /**
   * `group.instance.id`: makes the process a static member. Give each process its own, stable
   * across restarts (a pod name): a restart within the session timeout keeps its partitions
   * without a rebalance.
   */
  readonly instanceId?: string
  /** Without a heartbeat for this long the group drops the process and moves its partitions. Default 45 s. */
  readonly sessionTimeoutMs?: number
  /**
   * How long a rebalance waits for every process to rejoin — and so how long a batch in
   * flight may hold this process's rejoin before it is abandoned and rolled back. Default 60 s.
   */
  readonly rebalanceTimeoutMs?: number
  /** Default 3 s; at most a third of the session timeout is usual. */
  readonly heartbeatIntervalMs?: number
}

/** How a stream's partitions are shared by several processes: exactly one of `group` or `split`. */
export interface SharingOptions {
  readonly group?: GroupOptions
  /** A fixed split without a consumer group: instance `instance` of `of`, under deployment `epoch`. */
  readonly split?: StaticSplitOptions
  /**
   * Where the positions of the partitions this process takes over come from, and what fences
   * the process that had them: the job's SQL or Kafka sink. Required with `group` or `split`.
   */
  readonly offsetStore?: PartitionOffsetStore
}

const groupDefaults = { sessionTimeoutMs: 45_000, rebalanceTimeoutMs: 60_000, heartbeatIntervalMs: 3_000 }

const groupOption = optionsObject(
  {
    id: required(nonEmptyString),
    instanceId: nonEmptyString,
    sessionTimeoutMs: durationMs(),
    rebalanceTimeoutMs: durationMs(),
    heartbeatIntervalMs: durationMs(),
  },
  (group, path) => {
    const { sessionTimeoutMs, rebalanceTimeoutMs, heartbeatIntervalMs } = { ...groupDefaults, ...group }
    if (heartbeatIntervalMs >= sessionTimeoutMs) {
      throw invalidOption(
        optionPath(path, 'heartbeatIntervalMs'),
        `must be below sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}`,
      )
    }
    if (rebalanceTimeoutMs < sessionTimeoutMs) {
      throw invalidOption(
        optionPath(path, 'rebalanceTimeoutMs'),
        `must be at least sessionTimeoutMs (${sessionTimeoutMs}), got ${rebalanceTimeoutMs}`,
      )
    }
  },
)

const splitOption = optionsObject(
  {
    instance: required(integerOption({ min: 0, max: MAX_INT32 })),
    of: required(positiveInteger),
    epoch: required(integerOption({ min: 0, max: MAX_INT32 })),
  },
  (split, path) => {
    if (split.instance >= split.of) {
      throw invalidOption(
        optionPath(path, 'instance'),
        `must be below 'of' (${split.of}): instances count from 0, got ${split.instance}`,
      )
    }
  },
)

const offsetStoreOption = customOption<PartitionOffsetStore>(
  'a sink that stores offsets (createSqlSink or createKafkaSink)',
  (value, path) => {
    if (!isPartitionOffsetStore(value)) {
      throw invalidOption(
        path,
        'must be a sink that stores offsets with its output (createSqlSink or createKafkaSink): the processes ' +
          'that share the partitions learn from it where each partition they take over resumes',
      )
    }
    return value
  },
)

/** The schema fields of SharingOptions. */
export const sharingOptionFields = { group: groupOption, split: splitOption, offsetStore: offsetStoreOption }

/** What else the options say that sharing cannot go with. */
export interface SharingContext extends SharingOptions {
  readonly assign?: unknown
  readonly groupId?: string
}

/** Refuses combinations that cannot work, naming the option. */
export function checkSharing(options: SharingContext, path = ''): void {
  if (options.group !== undefined && options.split !== undefined) {
    throw invalidOption(
      optionPath(path, 'split'),
      "cannot be combined with 'group': give one way to share the partitions",
    )
  }
  const sharing = options.group !== undefined ? 'group' : options.split !== undefined ? 'split' : undefined
  if (sharing === undefined) {
    if (options.offsetStore !== undefined) {
      throw invalidOption(
        optionPath(path, 'offsetStore'),
        "is for streams whose partitions several processes share: give 'group' or 'split' with it, or pass the " +
          "sink's storedOffsets() as startingOffsets",
      )
    }
    return
  }
  if (options.offsetStore === undefined) {
    throw invalidOption(
      optionPath(path, 'offsetStore'),
      `is required with '${sharing}': the positions of the partitions a process takes over come from the sink ` +
        'that stores the offsets with the output (createSqlSink or createKafkaSink), and that sink fences the ' +
        'process that had them; a local checkpoint cannot know what other processes did',
    )
  }
  if (options.assign !== undefined) {
    throw invalidOption(
      optionPath(path, 'assign'),
      `cannot be combined with '${sharing}': with '${sharing}' the partitions are shared out, use 'subscribe' or 'subscribePattern'`,
    )
  }
  options.offsetStore.checkSharedUse?.({ groupId: options.group?.id, split: options.split !== undefined })
  if (options.groupId !== undefined) {
    throw invalidOption(
      optionPath(path, 'groupId'),
      `cannot be combined with '${sharing}': commitAsync commits without group membership, which a group with ` +
        'members refuses; the offset store already keeps the offsets',
    )
  }
}

/** The ownership the options ask for; undefined when the stream reads every partition itself. */
export function createOwnership(
  options: SharingOptions,
  connection: ResolvedClientOptions,
  logger: Logger,
): PartitionOwnership | undefined {
  if (options.split !== undefined) return new StaticSplitOwnership(options.split)
  if (options.group === undefined) return undefined
  const { id, instanceId, ...timeouts } = options.group
  return new GroupOwnership({
    ...groupDefaults,
    ...timeouts,
    connection,
    groupId: id,
    instanceId,
    logger,
  })
}
