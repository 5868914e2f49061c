import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../../src/core/errors.ts'
import { freePort } from '../../../src/local-servers/ports.ts'
import { createSqlSink, type SqlTransaction } from '../../../src/sinks/sql/sql-sink.ts'
import { batch, engines, lockWaitWatcher, sqlWorld } from './fixtures.ts'

// Every test runs against SQLite (a fresh file) and PostgreSQL (the private test server):
// one contract, one test body.

for (const engine of engines) {
  test(`${engine}: a first batch is applied with its rows and offsets in one transaction`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'word TEXT NOT NULL, batch_id INTEGER NOT NULL')
    const sink = await world.sink()
    const b0 = batch(0, [
      ['words', 1, 0n, 2n],
      ['words', 0, 0n, 3n],
    ])
    const outcome = await sink.writeBatch(b0, async (tx) => {
      await tx.append(events, [
        { word: 'a', batch_id: tx.batch.id },
        { word: 'b', batch_id: tx.batch.id },
      ])
      await tx.query(`INSERT INTO "${events}" (word, batch_id) VALUES ($1, $2)`, ['c', 0])
    })
    assert.equal(outcome, 'applied')
    assert.deepEqual(await world.rows(`SELECT word, batch_id FROM "${events}" ORDER BY word`), [
      { word: 'a', batch_id: 0 },
      { word: 'b', batch_id: 0 },
      { word: 'c', batch_id: 0 },
    ])
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 3n, 1: 2n } })
    assert.deepEqual(
      await world.rows(
        `SELECT app, topic, "partition", CAST(until_offset AS TEXT) AS until_offset, CAST(batch_id AS TEXT) AS batch_id, ` +
          `CAST(batch_time AS TEXT) AS batch_time FROM "${world.offsetsTable}" ORDER BY "partition"`,
      ),
      [
        {
          app: world.app,
          topic: 'words',
          partition: 0,
          until_offset: '3',
          batch_id: '0',
          batch_time: '1700000000000',
        },
        {
          app: world.app,
          topic: 'words',
          partition: 1,
          until_offset: '2',
          batch_id: '0',
          batch_time: '1700000000000',
        },
      ],
    )
  })

  test(`${engine}: a replay of an applied batch is already-applied; a first run of it is FENCED`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'word TEXT NOT NULL')
    const sink = await world.sink()
    const b0 = batch(0, [['words', 0, 0n, 3n]])
    const b1 = batch(1, [['words', 0, 3n, 5n]])
    const write = (word: string) => async (tx: SqlTransaction) => tx.append(events, [{ word }])
    assert.equal(await sink.writeBatch(b0, write('first')), 'applied')
    assert.equal(await sink.writeBatch(b1, write('second')), 'applied')

    let called = false
    const replay = { ...b1, replay: true }
    assert.equal(
      await sink.writeBatch(replay, async () => {
        called = true
      }),
      'already-applied',
    )
    assert.equal(called, false, 'the write function of an applied batch is not run')
    await assert.rejects(sink.writeBatch(b1, write('zombie')), {
      code: ErrorCodes.FENCED,
      message:
        `batch 1 of app '${world.app}' was already applied by another instance (table ${world.offsetsTable} holds ` +
        'its until-offsets) although this run is not a replay; this instance has been fenced and must stop',
    })
    assert.deepEqual(await world.rows(`SELECT word FROM "${events}" ORDER BY word`), [
      { word: 'first' },
      { word: 'second' },
    ])
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 5n } })
  })

  test(`${engine}: a batch whose from-offset is beyond or behind the stored offset fails and applies nothing`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'word TEXT NOT NULL')
    const sink = await world.sink()
    await sink.writeBatch(
      batch(0, [
        ['words', 0, 0n, 10n],
        ['words', 1, 0n, 4n],
      ]),
      async (tx) => tx.append(events, [{ word: 'kept' }]),
    )
    const write = async (tx: SqlTransaction) => tx.append(events, [{ word: 'must not appear' }])
    const prefix = `batch 1 of app '${world.app}' does not line up with the offsets in table ${world.offsetsTable}`

    await assert.rejects(
      sink.writeBatch(
        batch(1, [
          ['words', 0, 12n, 20n],
          ['words', 1, 4n, 6n],
        ]),
        write,
      ),
      (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.SINK_OFFSET_MISMATCH)
        assert.equal(
          error.message,
          `${prefix}: it reads words-0 [12, 20) but words-0 has stored offset 10 (expected 12 before the batch, ` +
            "or 20 after it); offsets 10 to 11 would never be written (a gap): the stream did not start from the sink's " +
            `offsets (startingOffsets, or a checkpoint of another deployment), or table ${world.offsetsTable} was ` +
            'reset or restored to older offsets; nothing was written',
        )
        assert.deepEqual(error.details, {
          app: world.app,
          batchId: 1,
          topic: 'words',
          partition: 0,
          fromOffset: 12n,
          untilOffset: 20n,
          storedOffset: 10n,
        })
        return true
      },
    )
    await assert.rejects(sink.writeBatch(batch(1, [['words', 0, 7n, 20n]]), write), {
      code: ErrorCodes.SINK_OFFSET_MISMATCH,
      message:
        `${prefix}: it reads words-0 [7, 20) but words-0 has stored offset 10 (expected 7 before the batch, ` +
        `or 20 after it); records before offset 10 were already written by another run: another instance of app '${world.app}' ` +
        'is writing (a second deployment, or this instance stalled and was replaced), or this stream restarted from ' +
        'an older checkpoint; this instance must stop; nothing was written',
    })
    // words-1 is where batch 1 starts, words-0 is already past it: no single run explains that.
    await assert.rejects(
      sink.writeBatch(
        batch(1, [
          ['words', 0, 5n, 10n],
          ['words', 1, 4n, 9n],
        ]),
        write,
      ),
      {
        code: ErrorCodes.SINK_OFFSET_MISMATCH,
        message:
          `${prefix}: words-0 is at offset 10 (the batch's until-offset, so the batch was applied) but words-1 has ` +
          `stored offset 4 (the batch reads words-1 [4, 9)); another instance of app '${world.app}' that plans other ` +
          `batches may be writing, or the checkpoint and table ${world.offsetsTable} disagree; this instance must stop; ` +
          'nothing was written',
      },
    )
    assert.deepEqual(await world.rows(`SELECT word FROM "${events}"`), [{ word: 'kept' }])
    assert.deepEqual(await sink.storedOffsets(), { words: { 0: 10n, 1: 4n } })
  })

  test(`${engine}: a write function that throws rolls back rows and offsets; the SINK error names the batch`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'word TEXT NOT NULL')
    const sink = await world.sink()
    const cause = new Error('bad record at words-0 offset 2')
    const b0 = batch(0, [['words', 0, 0n, 3n]])
    await assert.rejects(
      sink.writeBatch(b0, async (tx) => {
        await tx.append(events, [{ word: 'half-written' }])
        throw cause
      }),
      (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.SINK)
        assert.equal(
          error.message,
          `batch 0 of app '${world.app}' was not written: the write function failed: bad record at words-0 offset 2; ` +
            'nothing of the batch was applied',
        )
        assert.equal(error.cause, cause)
        assert.equal(error.details.batchId, 0)
        return true
      },
    )
    assert.deepEqual(await world.rows(`SELECT word FROM "${events}"`), [])
    assert.deepEqual(await sink.storedOffsets(), {})
    // The re-run after the failure writes the batch normally.
    assert.equal(
      await sink.writeBatch({ ...b0, replay: true }, async (tx) => tx.append(events, [{ word: 'whole' }])),
      'applied',
    )
    assert.deepEqual(await world.rows(`SELECT word FROM "${events}"`), [{ word: 'whole' }])
  })

  for (const replay of [true, false]) {
    for (const first of [true, false]) {
      test(`${engine}: two instances writing the same ${first ? 'first' : 'later'} batch at once (replay: ${replay}): exactly one applies`, async (t) => {
        const world = await sqlWorld(t, engine)
        const events = await world.table('events', 'writer TEXT NOT NULL')
        const setup = await world.sink()
        if (!first) await setup.writeBatch(batch(0, [['words', 0, 0n, 5n]]), async () => {})
        const contested = first
          ? batch(0, [['words', 0, 0n, 5n]], replay)
          : batch(1, [['words', 0, 5n, 9n]], replay)

        const watcher = lockWaitWatcher(world)
        const a = await world.sink({ logger: watcher.logger })
        const b = await world.sink({ logger: watcher.logger })
        const gate = Promise.withResolvers<void>()
        // Whoever takes the lock first holds it until the other is seen waiting for it.
        const write = (writer: string) => async (tx: SqlTransaction) => {
          await gate.promise
          await tx.append(events, [{ writer }])
        }
        const settle = (p: Promise<string>) =>
          p.then(
            (outcome) => outcome,
            (error: SluiceError) => error.code,
          )
        const results = Promise.all([
          settle(a.writeBatch(contested, write('a'))),
          settle(b.writeBatch(contested, write('b'))),
        ])
        try {
          await watcher.waiting
        } finally {
          // Let the writers finish either way: a writer held at the gate would keep the
          // sinks from closing when the test ends.
          gate.resolve()
        }
        const [ra, rb] = await results
        const loser = replay ? 'already-applied' : ErrorCodes.FENCED
        assert.deepEqual([ra, rb].sort(), ['applied', loser].sort())
        const winner = ra === 'applied' ? 'a' : 'b'
        assert.deepEqual(await world.rows(`SELECT writer FROM "${events}"`), [{ writer: winner }])
        assert.deepEqual(await setup.storedOffsets(), { words: { 0: first ? 5n : 9n } })
      })
    }
  }

  test(`${engine}: storedOffsets round-trips offsets beyond 2^53 exactly, per app`, async (t) => {
    const world = await sqlWorld(t, engine)
    const sink = await world.sink()
    const big = 2n ** 53n + 1n
    const max = 2n ** 63n - 1n
    await sink.writeBatch(
      batch(0, [
        ['huge', 0, big, big + 2n],
        ['huge', 3, 0n, max],
      ]),
      async () => {},
    )
    assert.deepEqual(await sink.storedOffsets(), { huge: { 0: big + 2n, 3: max } })
    // The next batch starts exactly where the stored offset is: no precision was lost on the way.
    assert.equal(
      await sink.writeBatch(batch(1, [['huge', 0, big + 2n, big + 7n]]), async () => {}),
      'applied',
    )
    assert.deepEqual(await sink.storedOffsets(), { huge: { 0: big + 7n, 3: max } })
    assert.deepEqual(await sink.storedOffsets('another-app'), {})
  })

  test(`${engine}: upsert adds to existing totals across batches and replaces the other columns`, async (t) => {
    const world = await sqlWorld(t, engine)
    const counts = await world.table(
      'word_counts',
      'word TEXT PRIMARY KEY, count INTEGER NOT NULL, last_batch INTEGER NOT NULL',
    )
    const sink = await world.sink({ tables: [counts] })
    const write = (rows: [string, number][]) => async (tx: SqlTransaction) =>
      tx.upsert(
        counts,
        ['word'],
        rows.map(([word, count]) => ({ word, count, last_batch: tx.batch.id })),
        { add: ['count'] },
      )
    await sink.writeBatch(
      batch(0, [['words', 0, 0n, 3n]]),
      write([
        ['apple', 1],
        ['pear', 2],
      ]),
    )
    // A key twice in one call adds up too (PostgreSQL would refuse it in one statement).
    await sink.writeBatch(
      batch(1, [['words', 0, 3n, 8n]]),
      write([
        ['apple', 3],
        ['fig', 1],
        ['apple', 1],
      ]),
    )
    assert.deepEqual(await world.rows(`SELECT word, count, last_batch FROM "${counts}" ORDER BY word`), [
      { word: 'apple', count: 5, last_batch: 1 },
      { word: 'fig', count: 1, last_batch: 1 },
      { word: 'pear', count: 2, last_batch: 0 },
    ])
  })

  test(`${engine}: batches of empty ranges are applied and keep the offsets`, async (t) => {
    const world = await sqlWorld(t, engine)
    const sink = await world.sink()
    const counts = await world.table('counts', 'word TEXT PRIMARY KEY, count INTEGER NOT NULL')
    assert.equal(await sink.writeBatch(batch(0, [['quiet', 0, 4n, 4n]]), async () => {}), 'applied')
    // What a stream that has caught up writes: no rows.
    const nothing = async (tx: SqlTransaction) => {
      await tx.upsert(counts, ['word'], [], { add: ['count'] })
      await tx.append(counts, [])
    }
    assert.equal(await sink.writeBatch(batch(1, [['quiet', 0, 4n, 4n]]), nothing), 'applied')
    assert.deepEqual(await world.rows(`SELECT * FROM "${counts}"`), [])
    assert.equal(await sink.writeBatch(batch(2, []), async () => {}), 'applied')
    assert.deepEqual(await sink.storedOffsets(), { quiet: { 0: 4n } })
  })

  test(`${engine}: start fails naming a required table that is missing`, async (t) => {
    const world = await sqlWorld(t, engine)
    const present = await world.table('present', 'x INTEGER')
    const sink = world.sink({ tables: [present, 'word_counts_missing'] })
    await assert.rejects(sink, (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.SINK)
      assert.ok(
        error.message.startsWith(
          `table 'word_counts_missing' that the SQL sink of app '${world.app}' requires does not exist in `,
        ),
        error.message,
      )
      assert.equal(error.details.table, 'word_counts_missing')
      return true
    })
  })

  test(`${engine}: a sink must be started before writing and cannot be used after close`, async (t) => {
    const world = await sqlWorld(t, engine)
    const sink = createSqlSink({ app: world.app, offsetsTable: world.offsetsTable, ...world.database })
    await assert.rejects(
      sink.writeBatch(batch(0, []), async () => {}),
      {
        code: ErrorCodes.SINK,
        message: `the SQL sink of app '${world.app}' is not started; call start() first`,
      },
    )
    await sink.start()
    await sink.close()
    await assert.rejects(sink.storedOffsets(), { code: ErrorCodes.CLOSED })
  })
}

test('sqlite: start fails when the database file cannot be opened, naming it', async () => {
  const sink = createSqlSink({ app: 'wc', sqlite: { path: '/nonexistent-sluice-dir/sink.db' } })
  await assert.rejects(sink.start(), {
    code: ErrorCodes.SINK,
    message: 'cannot open SQLite file /nonexistent-sluice-dir/sink.db: unable to open database file',
  })
})

test('postgres: start fails when the server cannot be reached, naming host, port and database', async () => {
  const port = await freePort()
  const sink = createSqlSink({
    app: 'wc',
    postgres: { connectionString: `postgresql://sluice:secret@127.0.0.1:${port}/nowhere` },
  })
  await assert.rejects(sink.start(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.SINK)
    assert.equal(
      error.message,
      `cannot connect to PostgreSQL at 127.0.0.1:${port}/nowhere: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    assert.ok(!error.message.includes('secret'), 'no password in the message')
    return true
  })
})

test('sqlite: a writer that cannot get the lock within retryTimeoutMs fails retriably, applying nothing', async (t) => {
  const world = await sqlWorld(t, 'sqlite')
  const events = await world.table('events', 'writer TEXT NOT NULL')
  const holder = await world.sink()
  const waiter = await world.sink({
    sqlite: { path: world.database.sqlite!.path, busyTimeoutMs: 50 },
    retryTimeoutMs: 200,
  })
  const inside = Promise.withResolvers<void>()
  const release = Promise.withResolvers<void>()
  const held = holder.writeBatch(batch(0, [['words', 0, 0n, 1n]]), async (tx) => {
    await tx.append(events, [{ writer: 'holder' }])
    inside.resolve()
    await release.promise
  })
  await inside.promise
  await assert.rejects(
    waiter.writeBatch(batch(0, [['words', 0, 0n, 1n]], true), async () => {}),
    (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.SINK)
      assert.equal(error.retriable, true)
      assert.ok(
        error.message.includes(
          'stayed locked by another connection for 50 ms while taking the write lock (database is locked); ' +
            'nothing of the batch was applied',
        ),
        error.message,
      )
      return true
    },
  )
  release.resolve()
  assert.equal(await held, 'applied')
  assert.deepEqual(await world.rows(`SELECT writer FROM "${events}"`), [{ writer: 'holder' }])
})

test('sqlite: a second instance starts and reads the offsets while the first holds the write lock in a batch', async (t) => {
  const world = await sqlWorld(t, 'sqlite')
  const holder = await world.sink()
  await holder.writeBatch(batch(0, [['words', 0, 0n, 1n]]), async () => {})
  const inside = Promise.withResolvers<void>()
  const release = Promise.withResolvers<void>()
  const held = holder.writeBatch(batch(1, [['words', 0, 1n, 2n]]), async () => {
    inside.resolve()
    await release.promise
  })
  await inside.promise
  try {
    // A new deployment must not wait for (or, after busyTimeoutMs, fail on) the running batch.
    const second = await world.sink({ sqlite: { path: world.database.sqlite!.path, busyTimeoutMs: 50 } })
    assert.deepEqual(await second.storedOffsets(), { words: { 0: 1n } })
  } finally {
    release.resolve()
  }
  assert.equal(await held, 'applied')
  assert.deepEqual(await holder.storedOffsets(), { words: { 0: 2n } })
})

for (const engine of engines) {
  test(`${engine}: the transaction handle refuses work once its batch is over`, async (t) => {
    const world = await sqlWorld(t, engine)
    const events = await world.table('events', 'writer TEXT NOT NULL')
    const sink = await world.sink()
    let kept: SqlTransaction | undefined
    await sink.writeBatch(batch(0, [['words', 0, 0n, 1n]]), async (tx) => {
      kept = tx
    })
    await assert.rejects(kept!.append(events, [{ writer: 'late' }]), {
      code: ErrorCodes.CLOSED,
      message:
        'the transaction of batch 0 is over; write only inside the write function and await every query',
    })
    assert.deepEqual(await world.rows(`SELECT writer FROM "${events}"`), [])
  })
}
