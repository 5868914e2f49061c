import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { silentLogger } from '../../../src/core/logger.ts'
import type { ReceivedBlock } from '../../../src/source/receiver/received-block.ts'
import { ReceivedBlockTracker } from '../../../src/source/receiver/received-block-tracker.ts'
import { WalDamageLedger } from '../../../src/source/receiver/wal-damage.ts'
import { WriteAheadLog } from '../../../src/source/receiver/write-ahead-log.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

function block(id: number, time: number, from: number, until: number, receiver = 'r1'): ReceivedBlock {
  return {
    id,
    receiver,
    time,
    records: until - from,
    bytes: 100,
    spans: [
      {
        topic: 't',
        partition: 0,
        fromOffset: BigInt(from),
        untilOffset: BigInt(until),
        records: until - from,
      },
    ],
  }
}

async function open(dir: string, now = { value: 0 }) {
  const log = await WriteAheadLog.open({
    dir,
    what: 'metadata',
    rollIntervalMs: 1_000,
    maxSegmentBytes: 1 << 20,
    now: () => now.value,
  })
  const tracker = await ReceivedBlockTracker.recover({
    log,
    damage: new WalDamageLedger('fail', silentLogger, 'test'),
  })
  return { log, tracker }
}

const ids = (blocks: readonly ReceivedBlock[]) => blocks.map((b) => b.id)

test('a batch takes the blocks cut up to its time, in order, and the log replays to the same book', async (t) => {
  const dir = join(tempDir(t), 'metadata')
  const { log, tracker } = await open(dir)
  await tracker.receiverStarted('r1')
  await tracker.addBlock(block(0, 10, 0, 5))
  await tracker.addBlock(block(1, 20, 5, 9))
  await tracker.addBlock(block(2, 30, 9, 12))
  assert.deepEqual(ids(await tracker.allocate(0, 15)), [0])
  assert.deepEqual(ids(await tracker.allocate(1, 25)), [1])
  assert.deepEqual(ids(await tracker.allocate(2, 29)), [], 'nothing was cut by then')
  assert.deepEqual(ids(tracker.unallocated), [2])
  await log.close()

  const again = await open(dir)
  assert.equal(again.tracker.allocatedThrough, 1)
  assert.deepEqual(ids(again.tracker.unallocated), [2])
  assert.equal(again.tracker.highestBlockId, 2)
  assert.equal(again.tracker.lastReceiver, 'r1')
  // The checkpoint logged only batch 0: batch 1's allocation never reached it, so its block is free again.
  again.tracker.alignWithCheckpoint(0)
  assert.deepEqual(ids(again.tracker.unallocated), [1, 2])
  assert.deepEqual(ids(await again.tracker.allocate(1, 100)), [1, 2])
  await again.log.close()
})

test('released blocks stay in the book until the group acknowledged them; then the log segments go', async (t) => {
  const dir = join(tempDir(t), 'metadata')
  const now = { value: 0 }
  const { log, tracker } = await open(dir, now)
  await tracker.addBlock(block(0, 10, 0, 5))
  await tracker.allocate(0, 10)
  now.value = 2_000 // the next event starts another segment
  await tracker.addBlock(block(1, 20, 5, 9))
  await tracker.allocate(1, 20)
  assert.equal(tracker.lowestNeededBlockId(), 0)
  assert.deepEqual(await tracker.release(1), [0])
  assert.equal(tracker.lowestNeededBlockId(), 1)
  assert.deepEqual(ids(tracker.knownBlocks()), [0, 1], 'block 0 is not acknowledged yet')
  assert.deepEqual(await tracker.cleanLog(), [])
  tracker.acknowledge([{ topic: 't', partition: 0, offset: 5n }])
  assert.deepEqual(ids(tracker.knownBlocks()), [1])
  now.value = 4_000
  await tracker.release(2)
  tracker.acknowledge([{ topic: 't', partition: 0, offset: 9n }])
  assert.deepEqual(ids(tracker.knownBlocks()), [])
  assert.deepEqual(await tracker.cleanLog(), ['segment-000000000001.wal', 'segment-000000000002.wal'])
  assert.deepEqual(await log.segments(), ['segment-000000000003.wal'])
  await log.close()
})

test('without a log the book lives in memory, and released blocks count as acknowledged', async () => {
  const tracker = await ReceivedBlockTracker.recover({
    log: undefined,
    damage: new WalDamageLedger('fail', silentLogger, 'test'),
  })
  await tracker.addBlock(block(0, 10, 0, 5))
  await tracker.allocate(0, 10)
  assert.deepEqual(await tracker.release(1), [0])
  assert.deepEqual(tracker.knownBlocks(), [])
  assert.deepEqual(await tracker.cleanLog(), [])
})
