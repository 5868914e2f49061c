// `sluice offsets show|reset` on the offsets a sink stores (SQLite and PostgreSQL offsets
// tables, the Kafka sink's group) for real jobs against a real broker: what show prints, a
// reset to each kind of target followed by a restart that reads exactly from there, and the
// refusals while a job writes a batch or a consumer uses the group.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { Consumer } from '@platformatic/kafka'
import { type ChildJob, caughtUp, fixtures, jobStarter } from '../helpers/child-job.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { pgUrl } from '../helpers/postgres.ts'
import { sluice } from '../helpers/sluice-cli.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { sqlWorld } from '../sinks/sql/fixtures.ts'

type StoreName = 'sqlite' | 'postgres' | 'kafka'
const stores: readonly StoreName[] = ['sqlite', 'postgres', 'kafka']

/** One app's offsets in one store: the job's environment and the CLI flags that name them. */
interface OffsetStore {
  readonly app: string
  /** Environment of the records fixture writing through this store's sink (no checkpoint). */
  readonly env: Record<string, string>
  /** `--app ... --sqlite|--postgres|--brokers ...` plus the cluster the job reads. */
  readonly flags: string[]
  /** How `show` names where the offsets are. */
  readonly where: string
}

async function offsetStore(t: TestContext, name: StoreName, topic: string): Promise<OffsetStore> {
  const brokers = bootstrap().join(',')
  if (name === 'kafka') {
    const app = `offsets-${randomBytes(4).toString('hex')}`
    return {
      app,
      env: { SINK: 'kafka', KAFKA_BOOTSTRAP: brokers, TOPIC: topic, APP: app, OUT_TOPIC: topic },
      flags: ['--app', app, '--brokers', brokers],
      where: `consumer group 'sluice-${app}'`,
    }
  }
  const world = await sqlWorld(t, name)
  const database: { env: Record<string, string>; flags: string[] } =
    name === 'sqlite'
      ? {
          env: { SQLITE_PATH: world.database.sqlite!.path },
          flags: ['--sqlite', world.database.sqlite!.path],
        }
      : { env: { PG_URL: pgUrl() }, flags: ['--postgres', pgUrl()] }
  return {
    app: world.app,
    env: {
      SINK: name,
      KAFKA_BOOTSTRAP: brokers,
      TOPIC: topic,
      APP: world.app,
      OFFSETS_TABLE: world.offsetsTable,
      ...database.env,
    },
    flags: [
      '--app',
      world.app,
      ...database.flags,
      '--table',
      world.offsetsTable,
      '--source-brokers',
      brokers,
    ],
    where: `table ${world.offsetsTable} in`,
  }
}

const recordLines = (job: ChildJob) => job.lines.filter((l) => l.startsWith('record:'))

/** Runs the job until it has read everything there is, stops it gracefully, and returns what it read. */
async function runToEnd(start: (env: Record<string, string>) => ChildJob, env: Record<string, string>) {
  const job = start(env)
  await caughtUp(job)
  job.process.kill('SIGTERM')
  assert.equal((await job.exited).code, 0, job.describe())
  return recordLines(job)
}

/** Phase A: records stamped two hours ago; phase B: one hour ago. */
const phaseA = Date.now() - 2 * 3_600_000
const phaseB = Date.now() - 3_600_000

/** Where the Kafka sink's job writes its copies: a topic of their own, so the input stays as produced. */
async function withOutputTopic(t: TestContext, store: OffsetStore): Promise<Record<string, string>> {
  if (store.env.SINK !== 'kafka') return store.env
  const out = await createTestTopic(t, testClient(t), { partitions: 1, prefix: 'copies' })
  return { ...store.env, OUT_TOPIC: out }
}

for (const name of stores) {
  test(`${name}: offsets show, and reset to earliest, latest, a time and a file; each restart reads exactly from there`, {
    timeout: 240_000,
  }, async (t) => {
    const start = jobStarter(t, fixtures.records)
    const client = testClient(t)
    const topic = await createTestTopic(t, client, { partitions: 2, prefix: 'offsets' })
    const produce = async (phase: string, timestamp: number, count: number) => {
      for (let i = 0; i < count; i++) {
        await client.produce(
          [0, 1].map((partition) => ({ topic, partition, value: `${phase}${i}`, timestamp: timestamp + i })),
        )
      }
    }
    await produce('a', phaseA, 3)
    await produce('b', phaseB, 3)
    const store = await offsetStore(t, name, topic)
    const env = await withOutputTopic(t, store)
    const line = (partition: number, offset: number, value: string) =>
      `record:${topic}-${partition}@${offset}=${JSON.stringify(value)}`
    const everything = [0, 1].flatMap((p) =>
      ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'].map((v, i) => line(p, i, v)),
    )
    assert.deepEqual(await runToEnd(start, env), everything)

    const shown = await sluice('offsets', 'show', ...store.flags, '--json')
    assert.equal(shown.code, 0, shown.stderr)
    const doc = JSON.parse(shown.stdout)
    assert.equal(doc.app, store.app)
    assert.ok(doc.store.startsWith(store.where), doc.store)
    assert.deepEqual(
      doc.partitions.map(
        ({ topic, partition, offset, lostRecords, logStart, latest, lag }: Record<string, unknown>) => ({
          topic,
          partition,
          offset,
          lostRecords,
          logStart,
          latest,
          lag,
        }),
      ),
      [0, 1].map((partition) => ({
        topic,
        partition,
        offset: '6',
        lostRecords: '0',
        logStart: '0',
        latest: '6',
        lag: '0',
      })),
    )
    if (name === 'kafka') {
      assert.deepEqual(doc.activity[0], `group 'sluice-${store.app}': Empty, 0 members`)
      assert.match(
        doc.activity[1],
        new RegExp(
          `^transactional id 'sluice-${store.app}': CompleteCommit \\(producer \\d+, epoch \\d+\\)$`,
        ),
      )
    } else {
      assert.deepEqual(doc.activity, [])
      assert.equal(typeof doc.partitions[0].batchId, 'number')
    }
    const text = await sluice('offsets', 'show', ...store.flags)
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, new RegExp(`^offsets of app '${store.app}' in ${store.where}`))
    assert.match(text.stdout, new RegExp(`^${topic} +1 +6 .* 0 +0 +6 +0$`, 'm'), text.stdout)

    // A dry run prints the before/after table and writes nothing.
    const dry = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest', '--dry-run')
    assert.equal(dry.code, 0, dry.stderr)
    assert.equal(
      dry.stdout,
      `TOPIC${' '.repeat(topic.length - 3)}PARTITION  CURRENT  NEW  LOG START  LATEST  NOTE\n` +
        `${topic}          0        6    0          0       6\n` +
        `${topic}          1        6    0          0       6\n` +
        'dry run: nothing was written; run it again without --dry-run to apply it\n',
    )
    assert.deepEqual(await runToEnd(start, env), [], 'a dry run changes nothing')

    // earliest: everything again.
    const earliest = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest')
    assert.equal(earliest.code, 0, earliest.stderr)
    assert.match(
      earliest.stdout,
      new RegExp(`^reset 2 offset\\(s\\) of app '${store.app}' in ${store.where}`, 'm'),
    )
    assert.deepEqual(await runToEnd(start, env), everything)

    // latest: only what comes after the reset.
    assert.equal((await sluice('offsets', 'reset', ...store.flags, '--to', 'latest')).code, 0)
    await produce('c', Date.now(), 1)
    assert.deepEqual(await runToEnd(start, env), [line(0, 6, 'c0'), line(1, 6, 'c0')])

    // A time, one partition: partition 0 goes back to the first record of phase B; partition 1 stays.
    const time = new Date(phaseB).toISOString()
    const one = ['--topic', topic, '--partition', '0']
    const timed = await sluice('offsets', 'reset', ...store.flags, '--to', time, ...one)
    assert.equal(timed.code, 0, timed.stderr)
    assert.match(timed.stdout, new RegExp(`^${topic} +0 +7 +3 +0 +7$`, 'm'))
    assert.doesNotMatch(timed.stdout, new RegExp(`^${topic} +1 `, 'm'))
    assert.deepEqual(await runToEnd(start, env), [
      line(0, 3, 'b0'),
      line(0, 4, 'b1'),
      line(0, 5, 'b2'),
      line(0, 6, 'c0'),
    ])

    // A file of offsets: partition 1 back to offset 4; an offset past the log end is moved to it.
    const offsets = join(tempDir(t, 'offsets'), 'offsets.json')
    writeFileSync(offsets, JSON.stringify({ [topic]: { 1: 4, 0: '99' } }))
    const fromFile = await sluice('offsets', 'reset', ...store.flags, '--to', offsets)
    assert.equal(fromFile.code, 0, fromFile.stderr)
    assert.match(
      fromFile.stdout,
      new RegExp(`^${topic} +0 +7 +7 +0 +7 +99 is past the latest offset: moved to 7$`, 'm'),
    )
    assert.deepEqual(await runToEnd(start, env), [line(1, 4, 'b1'), line(1, 5, 'b2'), line(1, 6, 'c0')])

    // A file naming a partition the store has no offset for is a wrong argument: nothing moves.
    writeFileSync(offsets, JSON.stringify({ [topic]: { 0: 1, 5: 1 } }))
    const unknown = await sluice('offsets', 'reset', ...store.flags, '--to', offsets)
    assert.equal(unknown.code, 2)
    assert.match(
      unknown.stderr,
      new RegExp(
        `^sluice: the offsets file names ${topic}-5, which ${store.where}.* has no offset for \\(app '${store.app}'; ` +
          `it has ${topic}-0, ${topic}-1\\) \\[SLUICE_INVALID_ARGUMENT\\]\\n$`,
      ),
    )
    const after = JSON.parse((await sluice('offsets', 'show', ...store.flags, '--json')).stdout)
    assert.deepEqual(
      after.partitions.map((p: { offset: string }) => p.offset),
      ['7', '7'],
    )
  })
}

for (const name of ['sqlite', 'postgres'] as const) {
  test(`${name}: reset refused while a batch is being written or the checkpoint is locked; between batches the job stops at its next batch instead of overwriting it`, {
    timeout: 180_000,
  }, async (t) => {
    const start = jobStarter(t, fixtures.records)
    const client = testClient(t)
    const topic = await createTestTopic(t, client, { partitions: 1, prefix: 'offsets-busy' })
    await client.produce([0, 1, 2].map((i) => ({ topic, partition: 0, value: `v${i}` })))
    const store = await offsetStore(t, name, topic)
    assert.equal((await runToEnd(start, store.env)).length, 3)
    await client.produce([{ topic, partition: 0, value: 'v3' }])

    // Paused inside the sink's transaction of the batch that reads v3: the rows are locked.
    const dir = join(tempDir(t, 'offsets-busy'), 'ckpt')
    const paused = start({ ...store.env, CHECKPOINT: dir, PAUSE_AT: 'in-transaction:0' })
    await paused.waitFor('paused in-transaction:0')
    const locked = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest', '--checkpoint', dir)
    assert.equal(locked.code, 1)
    assert.match(
      locked.stderr,
      new RegExp(
        `^sluice: checkpoint '${dir}' is locked by process ${paused.process.pid} on host '[^']+': its job is running; ` +
          'stop it first; nothing was reset \\[SLUICE_OFFSETS_IN_USE\\]\\n$',
      ),
    )
    const busy = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest')
    assert.equal(busy.code, 1)
    assert.match(
      busy.stderr,
      new RegExp(
        `^sluice: a batch of app '${store.app}' is being written to ${store.where} .* right now \\(it holds the offsets' ` +
          'locks\\): stop the job first; nothing was reset \\[SLUICE_OFFSETS_IN_USE\\]\\n$',
      ),
    )
    // show reads beside the open transaction: the last committed position.
    const during = JSON.parse((await sluice('offsets', 'show', ...store.flags, '--json')).stdout)
    assert.deepEqual(
      during.partitions.map((p: { offset: string }) => p.offset),
      ['3'],
    )
    await paused.kill()

    // A job between batches: the reset goes through, and its next batch finds the offsets moved.
    const running = start(store.env)
    await caughtUp(running)
    const reset = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest')
    assert.equal(reset.code, 0, reset.stderr)
    await client.produce([{ topic, partition: 0, value: 'v4' }])
    const failure = await running.failure()
    assert.deepEqual(
      [failure.code, failure.cause.code],
      ['SLUICE_BATCH_FAILED', 'SLUICE_SINK_OFFSET_MISMATCH'],
    )
    assert.equal((await running.exited).code, 3)
    assert.deepEqual(
      await runToEnd(start, store.env),
      ['v0', 'v1', 'v2', 'v3', 'v4'].map((v, i) => `record:${topic}-0@${i}=${JSON.stringify(v)}`),
    )
  })
}

test('kafka: reset refused while a batch is being written or a consumer is in the group; a job between batches stops instead of overwriting it', {
  timeout: 180_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.records)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 1, prefix: 'offsets-busy' })
  await client.produce([0, 1, 2].map((i) => ({ topic, partition: 0, value: `v${i}` })))
  const store = await offsetStore(t, 'kafka', topic)
  const env = await withOutputTopic(t, store)
  assert.equal((await runToEnd(start, env)).length, 3)
  await client.produce([{ topic, partition: 0, value: 'v3' }])

  const paused = start({ ...env, PAUSE_AT: 'in-transaction:0' })
  await paused.waitFor('paused in-transaction:0')
  const busy = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest')
  assert.equal(busy.code, 1)
  assert.match(
    busy.stderr,
    new RegExp(
      `^sluice: a batch of app '${store.app}' is being written right now \\(transactional id 'sluice-${store.app}' ` +
        'is Ongoing\\): stop the job first; nothing was reset \\[SLUICE_OFFSETS_IN_USE\\]\\n$',
    ),
  )
  await paused.kill()

  // A consumer that joined the group (sluice's sink never does) keeps its offsets its own.
  const consumer = new Consumer({
    clientId: 'sluice-test-member',
    groupId: `sluice-${store.app}`,
    bootstrapBrokers: bootstrap(),
  })
  const stream = await consumer.consume({ topics: [topic], autocommit: false })
  try {
    const member = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest')
    assert.equal(member.code, 1)
    assert.match(
      member.stderr,
      new RegExp(
        `^sluice: consumer group 'sluice-${store.app}' has 1 live member\\(s\\) \\(state \\w+\\): a consumer uses it; ` +
          'stop it first; nothing was reset \\[SLUICE_OFFSETS_IN_USE\\]\\n$',
      ),
    )
  } finally {
    await stream.close()
    await consumer.close(true)
  }
  const unchanged = JSON.parse((await sluice('offsets', 'show', ...store.flags, '--json')).stdout)
  assert.deepEqual(
    unchanged.partitions.map((p: { offset: string }) => p.offset),
    ['3'],
  )

  // Between batches the reset takes the transactional id over: the job's next batch is fenced.
  const running = start(env)
  await caughtUp(running)
  const reset = await sluice('offsets', 'reset', ...store.flags, '--to', 'earliest')
  assert.equal(reset.code, 0, reset.stderr)
  await client.produce([{ topic, partition: 0, value: 'v4' }])
  // The sink finds the group's offsets moved before its next transaction, or (when the reset
  // landed between that check and the transaction) the reset's producer fenced it.
  const failure = await running.failure()
  assert.equal(failure.code, 'SLUICE_BATCH_FAILED')
  assert.ok(
    ['SLUICE_SINK_OFFSET_MISMATCH', 'SLUICE_FENCED'].includes(failure.cause.code!),
    failure.cause.code,
  )
  assert.equal((await running.exited).code, 3)
  assert.deepEqual(
    await runToEnd(start, env),
    ['v0', 'v1', 'v2', 'v3', 'v4'].map((v, i) => `record:${topic}-0@${i}=${JSON.stringify(v)}`),
  )
})

test('offsets: bad flags are one line and exit 2; a missing SQLite file or table is an error, never created', async (t) => {
  const dir = tempDir(t, 'offsets-flags')
  const missing = join(dir, 'nope.db')
  const usage = async (argv: string[], message: string) => {
    const result = await sluice('offsets', ...argv)
    assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`)
    const [line, usageLine] = result.stderr.split('\n')
    assert.equal(line, `sluice offsets ${argv[0]}: ${message}`)
    assert.match(usageLine!, new RegExp(`^usage: sluice offsets ${argv[0]} --app APP \\[--sqlite FILE\\]`))
  }
  await usage(['show', '--sqlite', missing], "option '--app' is required")
  await usage(['show', '--app', 'wc'], 'give the store: --sqlite FILE, --postgres URL or --brokers HOST:PORT')
  await usage(
    ['show', '--app', 'wc', '--sqlite', missing, '--brokers', 'h:1'],
    'give one store, not --sqlite and --brokers',
  )
  await usage(
    ['show', '--app', 'wc', '--sqlite', missing, '--group', 'g'],
    "option '--group' is for a Kafka sink's offsets (--brokers)",
  )
  await usage(
    ['show', '--app', 'wc', '--brokers', 'h:1', '--table', 't'],
    "option '--table' is for a SQL sink's offsets (--sqlite or --postgres)",
  )
  await usage(['reset', '--app', 'wc', '--sqlite', missing], "option '--to' is required")
  await usage(
    ['reset', '--app', 'wc', '--sqlite', missing, '--to', 'yesterday'],
    'option \'--to\' must be earliest, latest, an ISO 8601 time or a .json file of offsets, got "yesterday"',
  )
  await usage(
    ['reset', '--app', 'wc', '--sqlite', missing, '--to', 'earliest', '--partition', '0'],
    "option '--partition' needs '--topic'",
  )

  const noFile = await sluice('offsets', 'show', '--app', 'wc', '--sqlite', missing)
  assert.equal(noFile.code, 2)
  assert.equal(noFile.stderr, `sluice: SQLite file '${missing}' does not exist [SLUICE_SINK]\n`)
  assert.equal(existsSync(missing), false)
  const empty = join(dir, 'empty.db')
  writeFileSync(empty, '')
  const noTable = await sluice('offsets', 'show', '--app', 'wc', '--sqlite', empty)
  assert.equal(noTable.code, 2)
  assert.match(
    noTable.stderr,
    /^sluice: SQLite file .*empty\.db has no offsets table sluice_offsets: no SQL sink wrote there yet, or the job's offsetsTable is another \(--table\) \[SLUICE_SINK\]\n$/,
  )
})
