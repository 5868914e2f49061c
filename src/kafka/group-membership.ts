import { setTimeout as sleep } from 'node:timers/promises'
import {
  type ClusterMetadata,
  Consumer,
  type ExtendedGroupProtocolSubscription,
  type GroupPartitionsAssignments,
} from '@platformatic/kafka'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { kafkaError, protocolErrorId } from './errors.ts'
import type { ResolvedClientOptions } from './options.ts'
import { wireClientOptions } from './options.ts'
import type { TopicPartition } from './types.ts'
import { negotiatedApi } from './wire.ts'

/** The name every sluice member gives its assignment protocol: only sluice members can share a group. */
export const stickyProtocolName = 'sluice-sticky'

/** The timing of a membership, as Kafka's consumer names it. */
export interface MembershipTimeouts {
  /** Without a heartbeat for this long the coordinator drops the member. */
  readonly sessionTimeoutMs: number
  /** How long the coordinator waits for every member to rejoin during a rebalance. */
  readonly rebalanceTimeoutMs: number
  readonly heartbeatIntervalMs: number
}

export interface GroupMembershipOptions extends MembershipTimeouts {
  readonly connection: ResolvedClientOptions
  readonly groupId: string
  /** `group.instance.id`: a static member, replaced in place when it restarts within the session timeout. */
  readonly instanceId?: string | undefined
  readonly logger: Logger
}

/** What the member knows when it is about to (re)join. */
export interface JoinContext {
  /** The member id it has (undefined on the first join, or once the group dropped it). */
  readonly memberId: string | undefined
  readonly generation: number
  /** Partition counts of the subscribed topics, from fresh metadata. */
  readonly partitionCounts: ReadonlyMap<string, number>
  /** Aborts when the coordinator answers a keep-alive heartbeat saying the member is gone. */
  readonly sessionLost: AbortSignal
}

/** A member as the leader sees it when it assigns. */
export interface JoinedMember {
  readonly memberId: string
  readonly topics: readonly string[]
  /** What the member's `beforeJoin` returned. */
  readonly userData: Buffer | null
}

/** The partitions the group gave this member in a generation. */
export interface Assignment {
  readonly generation: number
  readonly memberId: string
  readonly partitions: readonly TopicPartition[]
}

export interface MembershipHandlers {
  /**
   * Runs before every join and rejoin, and the join waits for it: the place to finish work on
   * partitions about to be revoked. The session is kept alive meanwhile. Resolves to what the
   * group leader is told about this member (its owned partitions, for stickiness).
   */
  beforeJoin(context: JoinContext): Promise<Buffer>
  /** The leader's assignment of the subscribed topics' partitions to the members. */
  assign(
    members: readonly JoinedMember[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>
  /** Called once a (re)join completed with this member's partitions. */
  onAssigned(assignment: Assignment): void
  /** A (re)join failed; the membership tries again on its own. */
  onJoinFailed(error: SluiceError): void
}

/** What a heartbeat says about the member's generation. */
export type HeartbeatAnswer =
  /** The generation is current and stable. */
  | 'stable'
  /** The generation is current but a rebalance began: the member must rejoin. */
  | 'rebalancing'
  /** The member or its generation is gone: everything it owned belongs to others now. */
  | 'lost'

const lostErrors = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'])
/** How long to wait before joining again after a join failed for good. */
const rejoinBackoffMs = 1000

/**
 * Membership in a Kafka consumer group over the classic protocol (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup), for assignment only: sluice fetches its ranges itself and never
 * consumes through the group. Built on @platformatic/kafka's Consumer, with three additions:
 *
 * - the wire client calls its `protocolsMetadata` hook before every (re)join, but stops its
 *   heartbeats while the hook runs; a hook that waits (for a batch to commit) longer than
 *   the session timeout would get the member dropped. While `beforeJoin` runs, this class
 *   sends the heartbeats itself — the coordinator counts them during a rebalance too;
 * - a static member (`instanceId`) never sends LeaveGroup when it closes, so a restart within
 *   the session timeout takes its place without a rebalance (the wire client would leave);
 * - a rejoin that fails for good (the wire client gives up after its retries and only emits
 *   'error') is tried again until the membership is closed.
 */
export class GroupMembership {
  readonly groupId: string
  readonly instanceId: string | undefined
  readonly #options: GroupMembershipOptions
  readonly #handlers: MembershipHandlers
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>
  readonly #logger: Logger
  #topics: string[] = []
  #closed = false
  #joining: Promise<void> | undefined

  constructor(options: GroupMembershipOptions, handlers: MembershipHandlers) {
    this.#options = options
    this.#handlers = handlers
    this.groupId = options.groupId
    this.instanceId = options.instanceId
    this.#logger = options.logger.child({ component: 'group-membership', groupId: options.groupId })
    const wire = wireClientOptions(options.connection, 'group')
    this.#consumer = new Consumer({
      ...wire,
      // JoinGroup is answered only once every member rejoined: up to the rebalance timeout.
      requestTimeout: Math.max(wire.requestTimeout, options.rebalanceTimeoutMs + 5000),
      groupId: options.groupId,
      ...(options.instanceId === undefined ? {} : { groupInstanceId: options.instanceId }),
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      protocols: [{ name: stickyProtocolName, version: 1 }],
      protocolsMetadata: (_protocols, topics, metadata) => this.#beforeJoin(topics, metadata),
      partitionAssigner: (_current, members, topics, metadata) => this.#assign(members, topics, metadata),
      autocommit: false,
    })
    this.#consumer.on('consumer:group:join', (payload) => this.#onJoined(payload))
    // The wire client reports a rejoin that failed after its retries only as an 'error' event.
    this.#consumer.on('error', (error: unknown) => this.#onJoinError(error))
  }

  /** The member id the coordinator gave this member, while it has one. */
  get memberId(): string | undefined {
    return this.#consumer.memberId ?? undefined
  }

  get generation(): number {
    return this.#consumer.generationId
  }

  /** Joins the group subscribed to `topics`; resolves once the first assignment is known. */
  async join(topics: readonly string[]): Promise<void> {
    this.#setTopics(topics)
    await this.#join()
  }

  /**
   * Changes the subscription (a pattern matched new topics) or asks for a new assignment
   * (partitions were added): rejoins in the background.
   */
  rejoin(topics: readonly string[] = this.#topics): void {
    this.#setTopics(topics)
    void this.#join().catch(() => {})
  }

  /** The subscribed topics. */
  get topics(): readonly string[] {
    return this.#topics
  }

  /**
   * Asks the coordinator whether a member id and generation — by default this member's now —
   * are still current, with a heartbeat of its own (the answer is what matters, not keeping
   * the session). Network failures throw.
   */
  async heartbeat(
    token: { readonly memberId: string | undefined; readonly generation: number } = {
      memberId: this.#consumer.memberId ?? undefined,
      generation: this.#consumer.generationId,
    },
  ): Promise<HeartbeatAnswer> {
    const { memberId, generation } = token
    if (!memberId) return 'lost'
    try {
      const coordinatorId = await this.#consumer.findGroupCoordinator()
      const cluster = await this.#consumer.metadata({ topics: [] })
      const broker = cluster.brokers.get(coordinatorId)
      if (broker === undefined)
        throw new Error(`the group coordinator (node ${coordinatorId}) is not in the metadata`)
      const connection = await this.#consumer.connections.get(broker)
      const api = await negotiatedApi(this.#consumer, 'Heartbeat')
      await api.async(connection, this.groupId, generation, memberId, this.instanceId ?? null)
      return 'stable'
    } catch (error) {
      const id = protocolErrorId(error)
      if (id === 'REBALANCE_IN_PROGRESS') return 'rebalancing'
      if (id !== undefined && lostErrors.has(id)) return 'lost'
      throw kafkaError(`sending a heartbeat to group '${this.groupId}'`, error, { groupId: this.groupId })
    }
  }

  /**
   * Leaves the group: a dynamic member says so (its partitions move at once), a static member
   * stays silent so that its replacement takes its place without a rebalance.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      if (this.instanceId !== undefined && this.#consumer.memberId) {
        // The wire client sends LeaveGroup only for a member id; without one it just stops.
        this.#consumer.memberId = null
        await this.#consumer.leaveGroup(true)
      }
      await this.#consumer.close(true)
    } catch (error) {
      this.#logger.warn(
        'leaving the consumer group failed; the coordinator drops the member after its session timeout',
        {
          error,
        },
      )
    }
  }

  #setTopics(topics: readonly string[]): void {
    const next = [...new Set(topics)].sort()
    this.#consumer.topics.untrackAll(...this.#topics.filter((t) => !next.includes(t)))
    this.#consumer.topics.trackAll(...next.filter((t) => !this.#topics.includes(t)))
    this.#topics = next
  }

  async #join(): Promise<void> {
    this.#joining ??= (async () => {
      try {
        await this.#consumer.joinGroup({})
      } catch (error) {
        throw this.#joinFailure(error)
      } finally {
        this.#joining = undefined
      }
    })()
    return this.#joining
  }

  async #beforeJoin(topics: readonly string[], metadata: ClusterMetadata): Promise<Buffer> {
    const partitionCounts = new Map<string, number>()
    for (const topic of topics) {
      const count = metadata.topics.get(topic)?.partitionsCount
      if (count !== undefined) partitionCounts.set(topic, count)
    }
    const memberId = this.#consumer.memberId ?? undefined
    const lost = new AbortController()
    const keepAlive = memberId === undefined ? undefined : this.#keepSessionAlive(lost)
    try {
      return await this.#handlers.beforeJoin({
        memberId,
        generation: this.#consumer.generationId,
        partitionCounts,
        sessionLost: lost.signal,
      })
    } finally {
      keepAlive?.stop()
    }
  }

  /** Heartbeats every interval until stopped; a heartbeat that says the member is gone aborts `lost`. */
  #keepSessionAlive(lost: AbortController): { stop(): void } {
    const stopped = new AbortController()
    void (async () => {
      while (!stopped.signal.aborted && !lost.signal.aborted) {
        try {
          await sleep(this.#options.heartbeatIntervalMs, undefined, { signal: stopped.signal })
        } catch {
          return
        }
        try {
          if ((await this.heartbeat()) === 'lost') lost.abort()
        } catch (error) {
          this.#logger.debug('a heartbeat while the rejoin is held failed', { error: messageOf(error) })
        }
      }
    })()
    return { stop: () => stopped.abort() }
  }

  #assign(
    members: Map<string, ExtendedGroupProtocolSubscription>,
    topics: Set<string>,
    metadata: ClusterMetadata,
  ): GroupPartitionsAssignments[] {
    const partitionCounts = new Map<string, number>()
    for (const topic of topics) partitionCounts.set(topic, metadata.topics.get(topic)?.partitionsCount ?? 0)
    const joined = [...members.values()].map((m) => ({
      memberId: m.memberId,
      topics: m.topics ?? [],
      userData: (m.metadata as Buffer | null | undefined) ?? null,
    }))
    const chosen = this.#handlers.assign(joined, partitionCounts)
    return [...chosen].map(([memberId, partitions]) => {
      const assignments = new Map<string, { topic: string; partitions: number[] }>()
      for (const p of partitions) {
        if (!assignments.has(p.topic)) assignments.set(p.topic, { topic: p.topic, partitions: [] })
        assignments.get(p.topic)!.partitions.push(p.partition)
      }
      return { memberId, assignments }
    })
  }

  #onJoined(payload: {
    memberId: string
    generationId?: number
    assignments?: { topic: string; partitions: number[] }[]
  }): void {
    const partitions = (payload.assignments ?? []).flatMap((a) =>
      a.partitions.map((partition) => ({ topic: a.topic, partition })),
    )
    this.#handlers.onAssigned({
      generation: payload.generationId ?? this.#consumer.generationId,
      memberId: payload.memberId,
      partitions,
    })
  }

  #onJoinError(error: unknown): void {
    if (this.#closed) return
    this.#handlers.onJoinFailed(this.#joinFailure(error))
    void (async () => {
      await sleep(rejoinBackoffMs)
      if (!this.#closed) this.rejoin()
    })()
  }

  #joinFailure(error: unknown): SluiceError {
    if (error instanceof SluiceError) return error
    return new SluiceError(
      ErrorCodes.KAFKA,
      `joining consumer group '${this.groupId}' failed: ${messageOf(error)}`,
      {
        cause: error,
        retriable: true,
        details: { groupId: this.groupId, kafkaError: protocolErrorId(error) },
      },
    )
  }
}
