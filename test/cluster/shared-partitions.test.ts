// SharedPartitions' decisions on a refused batch, with a fake ownership and offset store.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PartitionOffsetStore } from '../../src/cluster/offset-store.ts'
import type {
  OwnershipCheck,
  OwnershipLease,
  PartitionOwnership,
} from '../../src/cluster/partition-ownership.ts'
import { SharedPartitions } from '../../src/cluster/shared-partitions.ts'
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { partitionKey } from '../../src/core/partition-key.ts'

const topic = 'words'
const discovered = [0, 1].map((partition) => ({ topic, partition }))

function world() {
  let generation = 1
  const lease = (): OwnershipLease => ({
    owner: { kind: 'group', groupId: 'wc', generation, memberId: `m-${generation}` },
    owns: () => true,
    signal: new AbortController().signal,
  })
  let current = lease()
  const checks: OwnershipCheck[] = []
  const claims: number[][] = []
  const ownership: PartitionOwnership = {
    description: "group 'wc'",
    movesPartitions: true,
    start: async () => {},
    beginBatch: async () => current,
    endBatch: () => {},
    topicsChanged: () => {},
    check: async () => checks.shift() ?? 'current',
    close: async () => {},
  }
  const store: PartitionOffsetStore = {
    app: 'wc',
    start: async () => {},
    claimPartitions: async (_owner, list) => {
      claims.push(list.map((c) => c.partition))
      return { positions: new Map(list.map((c) => [partitionKey(c.topic, c.partition), 10n])), overtaken: [] }
    },
  }
  const shared = new SharedPartitions(ownership, store, silentLogger)
  return {
    shared,
    checks,
    claims,
    begin: () =>
      shared.begin(
        discovered,
        async (ps) => new Map(ps.map((p) => [partitionKey(p.topic, p.partition), 0n])),
      ),
    newGeneration: () => {
      generation++
      current = lease()
    },
  }
}

const revoked = new SluiceError(ErrorCodes.PARTITIONS_REVOKED, 'words-0 no longer belongs to member m-1')

test('a batch refused because the process lost partitions goes on, and its partitions are claimed again before the next batch', async () => {
  const w = world()
  const turn = await w.begin()
  assert.deepEqual(w.claims, [[0, 1]])
  w.checks.push('lost')
  assert.equal(await w.shared.withdraw(revoked, turn.lease, turn.partitions), true)
  await w.begin()
  assert.deepEqual(w.claims, [
    [0, 1],
    [0, 1],
  ])
  // Other failures stand.
  assert.equal(await w.shared.withdraw(new Error('disk full'), turn.lease, turn.partitions), false)
})

test('a refusal on partitions the coordinator calls current is claimed again once per lease; the second is a conflict with another deployment', async () => {
  const w = world()
  let turn = await w.begin()
  assert.equal(await w.shared.withdraw(revoked, turn.lease, turn.partitions), true)
  turn = await w.begin()
  await assert.rejects(w.shared.withdraw(revoked, turn.lease, turn.partitions), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.FENCED)
    assert.equal(
      error.message,
      "the offset store of app 'wc' keeps giving words-0, words-1 to another owner while the group coordinator says " +
        "they belong to member 'm-1' of group 'wc' (generation 1): another deployment (another group, or a " +
        'static split) writes the same app; stop one of them',
    )
    assert.equal(error.cause, revoked)
    return true
  })
  // Under a new lease (a rebalance) the count starts again.
  w.newGeneration()
  turn = await w.begin()
  assert.equal(await w.shared.withdraw(revoked, turn.lease, turn.partitions), true)
})
