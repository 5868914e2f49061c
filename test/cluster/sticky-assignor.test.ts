import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assignSticky, decodeOwnership, encodeOwnership } from '../../src/cluster/sticky-assignor.ts'
import type { TopicPartition } from '../../src/kafka/types.ts'

const counts = new Map([['words', 12]])
const tp = (partition: number, topic = 'words'): TopicPartition => ({ topic, partition })
const member = (memberId: string, owned: number[] = [], generation = owned.length > 0 ? 5 : -1) => ({
  memberId,
  topics: ['words'],
  owned: owned.map((p) => tp(p)),
  generation,
})
const partitionsOf = (result: Map<string, TopicPartition[]>, id: string) =>
  result.get(id)!.map((p) => p.partition)

/** Every partition exactly once across members. */
function assertComplete(result: Map<string, TopicPartition[]>, total: number): void {
  const all = [...result.values()].flat().map((p) => `${p.topic}-${p.partition}`)
  assert.equal(all.length, total)
  assert.equal(new Set(all).size, total)
}

describe('assignSticky', () => {
  it('spreads a fresh group evenly', () => {
    const result = assignSticky([member('a'), member('b'), member('c')], counts)
    assertComplete(result, 12)
    for (const id of ['a', 'b', 'c']) assert.equal(result.get(id)!.length, 4)
  })

  it('keeps every partition where it was when nobody joined or left', () => {
    const members = [member('a', [0, 3, 6, 9]), member('b', [1, 4, 7, 10]), member('c', [2, 5, 8, 11])]
    const result = assignSticky(members, counts)
    assert.deepEqual(partitionsOf(result, 'a'), [0, 3, 6, 9])
    assert.deepEqual(partitionsOf(result, 'b'), [1, 4, 7, 10])
    assert.deepEqual(partitionsOf(result, 'c'), [2, 5, 8, 11])
  })

  it('moves only the departed member’s partitions when one leaves', () => {
    const result = assignSticky([member('a', [0, 3, 6, 9]), member('c', [2, 5, 8, 11])], counts)
    assertComplete(result, 12)
    for (const p of [0, 3, 6, 9]) assert.ok(partitionsOf(result, 'a').includes(p))
    for (const p of [2, 5, 8, 11]) assert.ok(partitionsOf(result, 'c').includes(p))
    assert.equal(result.get('a')!.length, 6)
    assert.equal(result.get('c')!.length, 6)
  })

  it('gives a joining member a fair share taken from the others, the rest stays', () => {
    const members = [
      member('a', [0, 3, 6, 9]),
      member('b', [1, 4, 7, 10]),
      member('c', [2, 5, 8, 11]),
      member('d'),
    ]
    const result = assignSticky(members, counts)
    assertComplete(result, 12)
    for (const id of ['a', 'b', 'c', 'd']) assert.equal(result.get(id)!.length, 3)
    let kept = 0
    for (const m of members)
      for (const p of m.owned) if (partitionsOf(result, m.memberId).includes(p.partition)) kept++
    assert.equal(kept, 9, 'only the three partitions the new member takes move')
  })

  it('trusts the newer generation when two members claim a partition, and neither on a tie', () => {
    const result = assignSticky(
      [member('a', [0, 1], 7), member('b', [0, 2], 6), member('c', [1, 3], 7)],
      new Map([['words', 4]]),
    )
    assertComplete(result, 4)
    // 0: a (generation 7) over b (6); 1: a and c tie at 7, so whoever gets it, it is not by trust.
    assert.ok(partitionsOf(result, 'a').includes(0))
    assert.ok(partitionsOf(result, 'c').includes(3))
  })

  it('assigns a topic only to members that subscribe to it', () => {
    const result = assignSticky(
      [
        { memberId: 'a', topics: ['words', 'more'], owned: [], generation: -1 },
        { memberId: 'b', topics: ['words'], owned: [], generation: -1 },
      ],
      new Map([
        ['words', 2],
        ['more', 2],
      ]),
    )
    assertComplete(result, 4)
    assert.ok(result.get('b')!.every((p) => p.topic === 'words'))
    assert.equal(result.get('a')!.filter((p) => p.topic === 'more').length, 2)
  })

  it('ignores owned partitions of topics that are gone or no longer subscribed', () => {
    const result = assignSticky([member('a', [20, 0]), member('b')], new Map([['words', 2]]))
    assertComplete(result, 2)
    assert.deepEqual(partitionsOf(result, 'a'), [0])
    assert.deepEqual(partitionsOf(result, 'b'), [1])
  })
})

describe('ownership user data', () => {
  it('round-trips', () => {
    const encoded = encodeOwnership(9, [tp(1), tp(0, 'more'), tp(4)])
    assert.deepEqual(decodeOwnership(encoded), { generation: 9, owned: [tp(1), tp(4), tp(0, 'more')] })
  })

  it('reads anything else as owning nothing', () => {
    for (const data of [null, Buffer.alloc(0), Buffer.from('garbage'), Buffer.from('{"v":2}')]) {
      assert.deepEqual(decodeOwnership(data), { generation: -1, owned: [] })
    }
    assert.deepEqual(decodeOwnership(Buffer.from('{"v":1,"generation":3,"owned":{"t":[-1]}}')), {
      generation: -1,
      owned: [],
    })
  })
})
