import { partitionKey } from '../core/partition-key.ts'
import type { TopicPartition } from '../kafka/types.ts'

/** What the group leader knows of one member when it assigns partitions. */
export interface AssignorMember {
  readonly memberId: string
  /** The topics the member subscribes to. */
  readonly topics: readonly string[]
  /** The partitions it owned after the last rebalance it took part in, and that rebalance's generation. */
  readonly owned: readonly TopicPartition[]
  /** -1 when the member owned nothing (a new member, or one the group dropped). */
  readonly generation: number
}

/**
 * Assigns every partition of the subscribed topics to exactly one member, balanced (member
 * sizes differ by at most one among members that subscribe to the same topics) and sticky:
 * a member keeps as many of the partitions it owned as the balance allows, so a rebalance
 * moves only what must move — a new member's share, a departed member's partitions.
 *
 * When two members say they own the same partition, the one from the newer generation keeps
 * it (the other missed a rebalance); in a tie neither is trusted. A pure function, so the
 * leader's choice is reproducible and testable.
 */
export function assignSticky(
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const sortedMembers = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
  const result = new Map<string, TopicPartition[]>(sortedMembers.map((m) => [m.memberId, []]))
  if (sortedMembers.length === 0) return result
  const subscribers = new Map<string, Set<string>>()
  for (const member of sortedMembers) {
    for (const topic of member.topics) {
      if (!subscribers.has(topic)) subscribers.set(topic, new Set())
      subscribers.get(topic)!.add(member.memberId)
    }
  }
  const partitions: TopicPartition[] = []
  for (const topic of [...subscribers.keys()].sort()) {
    const count = partitionCounts.get(topic) ?? 0
    for (let partition = 0; partition < count; partition++) partitions.push({ topic, partition })
  }
  const valid = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)))
  const previousOwner = trustedOwners(sortedMembers, valid, subscribers)

  // Members that owned more get the larger shares, so fewer partitions move.
  const ownedCount = new Map<string, number>(sortedMembers.map((m) => [m.memberId, 0]))
  for (const owner of previousOwner.values()) ownedCount.set(owner, ownedCount.get(owner)! + 1)
  const byOwned = [...sortedMembers].sort(
    (a, b) => ownedCount.get(b.memberId)! - ownedCount.get(a.memberId)! || (a.memberId < b.memberId ? -1 : 1),
  )
  const base = Math.floor(partitions.length / sortedMembers.length)
  const extra = partitions.length % sortedMembers.length
  const target = new Map(byOwned.map((m, i) => [m.memberId, base + (i < extra ? 1 : 0)]))

  const assigned = new Set<string>()
  for (const p of partitions) {
    const key = partitionKey(p.topic, p.partition)
    const owner = previousOwner.get(key)
    if (owner === undefined) continue
    const mine = result.get(owner)!
    if (mine.length < target.get(owner)!) {
      mine.push(p)
      assigned.add(key)
    }
  }
  for (const p of partitions) {
    const key = partitionKey(p.topic, p.partition)
    if (assigned.has(key)) continue
    const eligible = sortedMembers.filter((m) => subscribers.get(p.topic)!.has(m.memberId))
    const below = eligible.filter((m) => result.get(m.memberId)!.length < target.get(m.memberId)!)
    const chosen = leastLoaded(below.length > 0 ? below : eligible, result)
    result.get(chosen.memberId)!.push(p)
    assigned.add(key)
  }
  for (const list of result.values()) list.sort(byTopicThenPartition)
  return result
}

/** The owner each partition had, when exactly one member of the newest claiming generation claims it. */
function trustedOwners(
  members: readonly AssignorMember[],
  valid: ReadonlySet<string>,
  subscribers: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, string> {
  const claims = new Map<string, { generation: number; members: string[] }>()
  for (const member of members) {
    if (member.generation < 0) continue
    for (const p of member.owned) {
      const key = partitionKey(p.topic, p.partition)
      if (!valid.has(key) || !subscribers.get(p.topic)?.has(member.memberId)) continue
      const claim = claims.get(key)
      if (claim === undefined || member.generation > claim.generation) {
        claims.set(key, { generation: member.generation, members: [member.memberId] })
      } else if (member.generation === claim.generation) {
        claim.members.push(member.memberId)
      }
    }
  }
  const owners = new Map<string, string>()
  for (const [key, claim] of claims) if (claim.members.length === 1) owners.set(key, claim.members[0]!)
  return owners
}

function leastLoaded(
  candidates: readonly AssignorMember[],
  result: ReadonlyMap<string, readonly TopicPartition[]>,
): AssignorMember {
  let best = candidates[0]!
  for (const candidate of candidates) {
    if (result.get(candidate.memberId)!.length < result.get(best.memberId)!.length) best = candidate
  }
  return best
}

function byTopicThenPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1
}

/** What a member tells the leader when it joins: its owned partitions and their generation, as JSON. */
export function encodeOwnership(generation: number, owned: readonly TopicPartition[]): Buffer {
  const topics: Record<string, number[]> = {}
  for (const p of owned) {
    topics[p.topic] ??= []
    topics[p.topic]!.push(p.partition)
  }
  return Buffer.from(JSON.stringify({ v: 1, generation, owned: topics }))
}

/** Reads a member's ownership back; anything unreadable (another client's data) counts as owning nothing. */
export function decodeOwnership(data: Buffer | null | undefined): {
  generation: number
  owned: TopicPartition[]
} {
  const nothing = { generation: -1, owned: [] }
  if (!data || data.length === 0) return nothing
  try {
    const parsed = JSON.parse(data.toString('utf8')) as {
      v?: unknown
      generation?: unknown
      owned?: Record<string, unknown>
    }
    if (parsed.v !== 1 || typeof parsed.generation !== 'number' || typeof parsed.owned !== 'object') {
      return nothing
    }
    const owned: TopicPartition[] = []
    for (const [topic, partitions] of Object.entries(parsed.owned ?? {})) {
      if (!Array.isArray(partitions)) return nothing
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0) return nothing
        owned.push({ topic, partition })
      }
    }
    return { generation: parsed.generation, owned }
  } catch {
    return nothing
  }
}
