import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../../src/core/errors.ts'
import type { SqlTransaction } from '../../../src/sinks/sql/sql-sink.ts'
import { batch, engines, sqlWorld } from './fixtures.ts'

// Retention deleted records before the stream read them and the stream (failOnDataLoss:
// false) skipped them: the batch says so in `lostRanges`, and the sink writes over the gap
// and records what was lost, in the batch's transaction.

for (const engine of engines) {
  test(`${engine}: a gap declared lost is written over and recorded; an undeclared gap still fails`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'word TEXT NOT NULL')
    const sink = await world.sink()
    const write = (word: string) => async (tx: SqlTransaction) => tx.append(events, [{ word }])
    assert.equal(await sink.writeBatch(batch(0, [['words', 0, 0n, 10n]]), write('b0')), 'applied')

    // The stream stood at 10, retention had moved the log start to 15.
    const b1 = batch(1, [['words', 0, 15n, 20n]], false, [['words', 0, 10n, 15n]])
    assert.equal(await sink.writeBatch(b1, write('b1')), 'applied')
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 20n } })
    const recorded = [
      { topic: 'words', partition: 0, fromOffset: 10n, untilOffset: 15n, batchId: 1, batchTime: b1.time },
    ]
    assert.deepEqual(await sink.lostRanges(), recorded)

    // A replay finds it applied and records nothing twice.
    assert.equal(await sink.writeBatch({ ...b1, replay: true }, write('replay')), 'already-applied')
    assert.deepEqual(await sink.lostRanges(), recorded)

    // A gap nobody declared, or one the declaration does not cover, is still a mismatch.
    for (const b2 of [
      batch(2, [['words', 0, 25n, 30n]]),
      batch(2, [['words', 0, 25n, 30n]], false, [['words', 0, 22n, 25n]]),
    ]) {
      await assert.rejects(sink.writeBatch(b2, write('b2')), (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.SINK_OFFSET_MISMATCH)
        assert.match(error.message, /offsets 20 to 24 would never be written \(a gap\)/)
        return true
      })
    }
    assert.deepEqual(await world.rows(`SELECT word FROM "${events}" ORDER BY word`), [
      { word: 'b0' },
      { word: 'b1' },
    ])
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 20n } })
    assert.deepEqual(await sink.lostRanges(), recorded)
  })

  test(`${engine}: lost ranges are part of the batch's transaction; inside a range and on new partitions too`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'word TEXT NOT NULL')
    const sink = await world.sink()
    await sink.writeBatch(batch(0, [['words', 0, 0n, 10n]]), async () => {})
    const b1 = batch(
      1,
      [
        ['words', 0, 20n, 30n],
        ['words', 1, 7n, 9n],
      ],
      false,
      [
        ['words', 0, 10n, 20n],
        ['words', 0, 24n, 26n], // a re-run found part of its own range deleted
        ['words', 1, 0n, 7n], // a partition the sink has not seen yet
      ],
    )
    await assert.rejects(
      sink.writeBatch(b1, async (tx) => {
        await tx.append(events, [{ word: 'x' }])
        throw new Error('worker died')
      }),
      { code: ErrorCodes.SINK },
    )
    assert.deepEqual(await sink.lostRanges(), [], 'a failed batch records no loss')
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 10n } })

    assert.equal(
      await sink.writeBatch({ ...b1, replay: true }, async (tx) => tx.append(events, [{ word: 'x' }])),
      'applied',
    )
    assert.deepEqual(
      (await sink.lostRanges()).map((l) => `${l.partition}:${l.fromOffset}-${l.untilOffset}@${l.batchId}`),
      ['0:10-20@1', '0:24-26@1', '1:0-7@1'],
    )
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 30n, 1: 9n } })
    assert.deepEqual(await world.rows(`SELECT word FROM "${events}"`), [{ word: 'x' }])
    // Per app: another app in the same tables has lost nothing.
    assert.deepEqual(await sink.lostRanges('another-app'), [])
  })
}
