import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { partitionKey } from '../core/partition-key.ts'
import {
  type Assignment,
  GroupMembership,
  type JoinContext,
  type JoinedMember,
  type MembershipTimeouts,
} from '../kafka/group-membership.ts'
import type { ResolvedClientOptions } from '../kafka/options.ts'
import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { TopicPartition } from '../kafka/types.ts'
import type { OwnershipCheck, OwnershipLease, PartitionOwnership } from './partition-ownership.ts'
import { assignSticky, decodeOwnership, encodeOwnership } from './sticky-assignor.ts'

export interface GroupOwnershipOptions extends MembershipTimeouts {
  readonly connection: ResolvedClientOptions
  readonly groupId: string
  readonly instanceId?: string | undefined
  readonly logger: Logger
}

/** Slack between the longest hold and the coordinator's rebalance timeout. */
const holdSlackMs = 1000

interface HeldLease {
  readonly lease: OwnershipLease
  readonly abort: AbortController
  readonly partitions: readonly TopicPartition[]
}

/**
 * A stream's partitions shared by the members of a Kafka consumer group. The group's
 * coordinator decides who owns what; this class turns its decisions into leases, one per
 * batch, and keeps Java's `onPartitionsRevoked` contract: a rebalance waits for the batch in
 * flight to commit before this member rejoins, so a batch is never cut off halfway through
 * its sink's transaction — unless it outlasts the rebalance timeout, when it is abandoned
 * (its lease aborts and its sink rolls back) rather than holding up the whole group.
 * No batch starts while a rebalance is under way.
 */
export class GroupOwnership implements PartitionOwnership {
  readonly movesPartitions = true
  readonly #options: GroupOwnershipOptions
  readonly #membership: GroupMembership
  readonly #logger: Logger
  #held: HeldLease | undefined
  #rebalancing = true
  #settled = Promise.withResolvers<void>()
  #inFlight: PromiseWithResolvers<void> | undefined
  #countsAtJoin: ReadonlyMap<string, number> = new Map()
  #closed = false

  constructor(options: GroupOwnershipOptions) {
    this.#options = options
    this.#logger = options.logger.child({ component: 'group-ownership', groupId: options.groupId })
    this.#membership = new GroupMembership(
      { ...options, logger: options.logger },
      {
        beforeJoin: (context) => this.#beforeJoin(context),
        assign: (members, counts) => assignMembers(members, counts),
        onAssigned: (assignment) => this.#onAssigned(assignment),
        onJoinFailed: (error) =>
          this.#logger.warn('joining the consumer group failed; trying again', { error: error.message }),
      },
    )
  }

  get description(): string {
    const owner = this.#held?.lease.owner
    const instance = this.#options.instanceId === undefined ? '' : ` instance '${this.#options.instanceId}'`
    return owner === undefined
      ? `group '${this.#options.groupId}'${instance}`
      : `group '${this.#options.groupId}'${instance} (member ${owner.memberId}, generation ${owner.generation})`
  }

  async start(topics: readonly string[]): Promise<void> {
    await this.#membership.join(topics)
  }

  async beginBatch(): Promise<OwnershipLease> {
    for (;;) {
      if (this.#closed) throw closedError(this.#options.groupId)
      if (!this.#rebalancing && this.#held !== undefined && this.#inFlight === undefined) {
        this.#inFlight = Promise.withResolvers<void>()
        return this.#held.lease
      }
      if (this.#inFlight !== undefined) await this.#inFlight.promise
      else await this.#settled.promise
    }
  }

  endBatch(): void {
    const inFlight = this.#inFlight
    this.#inFlight = undefined
    inFlight?.resolve()
  }

  topicsChanged(topics: readonly string[], partitionCounts: ReadonlyMap<string, number>): void {
    if (this.#rebalancing || this.#closed) return
    const sorted = [...new Set(topics)].sort()
    const subscribed = this.#membership.topics
    const topicsMoved = sorted.length !== subscribed.length || sorted.some((t, i) => t !== subscribed[i])
    const grown = sorted.some((t) => (partitionCounts.get(t) ?? 0) !== (this.#countsAtJoin.get(t) ?? 0))
    if (!topicsMoved && !grown) return
    this.#logger.info('the subscription changed; asking the group for a new assignment', {
      topics: sorted,
      before: subscribed,
    })
    this.#rebalancing = true
    this.#settled = Promise.withResolvers<void>()
    this.#membership.rejoin(sorted)
  }

  async check(lease: OwnershipLease): Promise<OwnershipCheck> {
    if (this.#held?.lease !== lease) return 'lost'
    // The lease's own token: the wire client may already hold a newer one from a rejoin under way.
    const answer = await this.#membership.heartbeat(lease.owner)
    return answer === 'stable' ? 'current' : answer
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#settled.resolve()
    this.#held?.abort.abort(closedError(this.#options.groupId))
    await this.#membership.close()
  }

  /**
   * Before every (re)join: no new batch starts, and the batch in flight may finish — for as
   * long as the coordinator waits for this member — before the member rejoins.
   */
  async #beforeJoin(context: JoinContext): Promise<Buffer> {
    if (!this.#rebalancing) {
      this.#rebalancing = true
      this.#settled = Promise.withResolvers<void>()
    }
    this.#countsAtJoin = context.partitionCounts
    const held = this.#held
    const inFlight = this.#inFlight
    if (held !== undefined && inFlight !== undefined) {
      if (context.memberId === undefined) {
        held.abort.abort(abandoned(this.#options.groupId, 'the group dropped this member'))
      } else {
        const limitMs = Math.max(
          0,
          this.#options.rebalanceTimeoutMs - this.#options.heartbeatIntervalMs - holdSlackMs,
        )
        this.#logger.info('a rebalance waits for the batch in flight to commit', { limitMs })
        const outcome = await Promise.race([
          inFlight.promise.then(() => 'committed' as const),
          sleep(limitMs, 'timed-out' as const, { ref: false }),
          new Promise<'lost'>((resolve) =>
            context.sessionLost.addEventListener('abort', () => resolve('lost'), { once: true }),
          ),
        ])
        if (outcome !== 'committed') {
          const reason =
            outcome === 'lost'
              ? 'the group dropped this member while the batch was in flight'
              : `the batch did not commit within the rebalance timeout (${this.#options.rebalanceTimeoutMs} ms)`
          this.#logger.warn('abandoning the batch in flight so the group can rebalance', { reason })
          held.abort.abort(abandoned(this.#options.groupId, reason))
        }
      }
    }
    const owned = context.memberId === undefined ? [] : (held?.partitions ?? [])
    const generation = context.memberId === undefined || held === undefined ? -1 : held.lease.owner.generation
    return encodeOwnership(generation, owned)
  }

  #onAssigned(assignment: Assignment): void {
    const previous = this.#held
    const owner: PartitionOwner = {
      kind: 'group',
      groupId: this.#options.groupId,
      generation: assignment.generation,
      memberId: assignment.memberId,
      ...(this.#options.instanceId === undefined ? {} : { instanceId: this.#options.instanceId }),
    }
    const keys = new Set(assignment.partitions.map((p) => partitionKey(p.topic, p.partition)))
    const abort = new AbortController()
    this.#held = {
      lease: {
        owner,
        owns: (topic, partition) => keys.has(partitionKey(topic, partition)),
        signal: abort.signal,
      },
      abort,
      partitions: assignment.partitions,
    }
    // A lease of an older generation is over: its batches can no longer commit.
    previous?.abort.abort(abandoned(this.#options.groupId, 'a new generation began'))
    this.#logger.info('partitions assigned', {
      generation: assignment.generation,
      memberId: assignment.memberId,
      partitions: assignment.partitions.map((p) => `${p.topic}-${p.partition}`),
    })
    this.#rebalancing = false
    this.#settled.resolve()
  }
}

/** The leader's assignment: sticky, from what each member says it owned. */
function assignMembers(
  members: readonly JoinedMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  return assignSticky(
    members.map((m) => ({ memberId: m.memberId, topics: m.topics, ...decodeOwnership(m.userData) })),
    partitionCounts,
  )
}

function abandoned(groupId: string, reason: string): SluiceError {
  return new SluiceError(ErrorCodes.PARTITIONS_REVOKED, `consumer group '${groupId}' rebalanced: ${reason}`, {
    details: { groupId },
  })
}

function closedError(groupId: string): SluiceError {
  return new SluiceError(ErrorCodes.CLOSED, `the membership in consumer group '${groupId}' is closed`, {
    details: { groupId },
  })
}
