// `sluice checkpoint show|reset` on checkpoints built here, without a broker: what they print,
// what they write, and how they refuse. test/cli/checkpoint-reset.test.ts runs them on real
// jobs against a broker.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.ts'
import type { PlannedInput } from '../../src/checkpoint/planned-batch.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { decodeKafkaPlan, encodeKafkaPlan } from '../../src/source/kafka-plan.ts'
import { sluice } from '../helpers/sluice-cli.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const T0 = Date.parse('2024-05-01T12:00:00Z')

function kafkaInput(
  ranges: [topic: string, partition: number, from: number, until: number][],
  parked: [topic: string, partition: number, offset: number][] = [],
): PlannedInput {
  return {
    kind: 'kafka-direct',
    plan: encodeKafkaPlan({
      ranges: ranges.map(([topic, partition, from, until]) => ({
        range: OffsetRange.create(topic, partition, BigInt(from), BigInt(until)),
        latestOffset: BigInt(until + 10),
      })),
      lost: [],
      parked: parked.map(([topic, partition, offset]) => ({ topic, partition, offset: BigInt(offset) })),
      rateLimit: 1500,
      lostRecords: 0,
      v1SharedRanges: false,
    }),
    state: { latestRate: 1500 },
  }
}

/**
 * A checkpoint of app 'orders': batch 0 committed (words-0 [0,5), words-1 [0,3), old-0 parked
 * at 7, a queue at item 1), then batch 1 planned and pending when `pending` (words-0 [5,9),
 * words-1 [3,3)), or committed too.
 */
async function makeCheckpoint(dir: string, options: { pending: boolean; queuePlanInPending?: boolean }) {
  const store = await CheckpointStore.open(dir, { appName: 'orders', logger: silentLogger, clock: () => T0 })
  await store.writePlanned({
    batchId: 0,
    batchTime: T0,
    inputs: {
      words: kafkaInput(
        [
          ['words', 0, 0, 5],
          ['words', 1, 0, 3],
        ],
        [['old', 0, 7]],
      ),
      'queue-0': { kind: 'queue', plan: { from: 0, until: 1, records: 1 }, state: { next: 1 } },
    },
  })
  await store.writeCommitted(0)
  await store.writePlanned({
    batchId: 1,
    batchTime: T0 + 1000,
    inputs: {
      words: kafkaInput(
        [
          ['words', 0, 5, 9],
          ['words', 1, 3, 3],
        ],
        [['old', 0, 7]],
      ),
      'queue-0': options.queuePlanInPending
        ? { kind: 'queue', plan: { from: 1, until: 2, records: 1 }, state: { next: 2 } }
        : { kind: 'queue', state: { next: 1 } },
    },
  })
  if (!options.pending) await store.writeCommitted(1)
  const snapshots = await store.stateSnapshots('totals')
  await snapshots.write(
    { stream: 'totals', batchId: 0, batchTime: T0, keyCodec: 'json', stateCodec: 'json' },
    [
      ['a', 1],
      ['b', 2],
    ],
  )
  await store.close()
}

test('checkpoint show: the app, batches, every position (pending and parked ones), state snapshots, as text and JSON', async (t) => {
  const dir = join(tempDir(t, 'ckpt-show'), 'ckpt')
  await makeCheckpoint(dir, { pending: true })
  const shown = await sluice('checkpoint', 'show', dir)
  assert.equal(shown.code, 0, shown.stderr)
  assert.equal(shown.stderr, '')
  const lines = shown.stdout.split('\n')
  assert.ok(lines.includes(`checkpoint      ${dir}`), shown.stdout)
  assert.ok(lines.includes('app             orders'))
  assert.ok(lines.includes('format          2'))
  assert.ok(lines.includes('lock            free (no job uses this directory)'))
  assert.ok(lines.includes('offset log      batches 0 to 1 (2 kept)'))
  assert.ok(
    lines.includes(
      'last planned    batch 1 for 2024-05-01T12:00:01.000Z — pending: planned, not committed; the next start re-runs it',
    ),
  )
  assert.ok(lines.includes('last committed  batch 0 at 2024-05-01T12:00:00.000Z'))
  // A pending batch is re-run: its partitions resume at their from-offsets.
  const table = lines.slice(lines.indexOf('input words (kafka-direct), rate limit 1,500 records/s') + 1)
  assert.deepEqual(table.slice(0, 4), [
    'TOPIC         PARTITION  POSITION  PENDING RANGE',
    'old (parked)          0         7  -',
    'words                 0         5  [5, 9)',
    'words                 1         3  [3, 3)',
  ])
  assert.ok(lines.includes('input queue-0 (queue)'))
  assert.ok(lines.includes('state {"next":1}'))
  const size = readFileSync(join(dir, 'state', 'totals', '0')).length
  assert.ok(
    lines.some((l) => new RegExp(`^totals  0 +0 +2 +${size}$`).test(l)),
    shown.stdout,
  )

  const json = await sluice('checkpoint', 'show', dir, '--json')
  assert.equal(json.code, 0, json.stderr)
  const doc = JSON.parse(json.stdout)
  assert.deepEqual(
    { ...doc, inputs: undefined, stateSnapshots: undefined },
    {
      dir,
      app: 'orders',
      formatVersion: 2,
      createdAt: '2024-05-01T12:00:00.000Z',
      lock: null,
      offsetLog: { first: 0, last: 1, count: 2 },
      commitLog: { first: 0, last: 0, count: 1 },
      lastPlanned: { batchId: 1, batchTime: '2024-05-01T12:00:01.000Z', pending: true },
      lastCommitted: { batchId: 0, committedAt: '2024-05-01T12:00:00.000Z' },
      inputs: undefined,
      stateSnapshots: undefined,
    },
  )
  assert.deepEqual(doc.inputs, [
    { name: 'queue-0', kind: 'queue', partitions: [], state: { next: 1 } },
    {
      name: 'words',
      kind: 'kafka-direct',
      rateLimit: 1500,
      partitions: [
        { topic: 'old', partition: 0, position: '7', parked: true, pendingRange: null, latestSeen: null },
        {
          topic: 'words',
          partition: 0,
          position: '5',
          parked: false,
          pendingRange: { fromOffset: '5', untilOffset: '9' },
          latestSeen: '19',
        },
        {
          topic: 'words',
          partition: 1,
          position: '3',
          parked: false,
          pendingRange: { fromOffset: '3', untilOffset: '3' },
          latestSeen: '13',
        },
      ],
      state: { latestRate: 1500 },
    },
  ])
  assert.deepEqual(doc.stateSnapshots, [
    {
      stream: 'totals',
      batchIds: [0],
      newest: {
        batchId: 0,
        batchTime: '2024-05-01T12:00:00.000Z',
        keys: 2,
        bytes: readFileSync(join(dir, 'state', 'totals', '0')).length,
      },
    },
  ])
})

test('checkpoint show and reset refuse a path that is not a checkpoint (one line, exit 2), and create nothing there', async (t) => {
  const base = tempDir(t, 'ckpt-missing')
  const missing = join(base, 'ckpt-typo')
  for (const argv of [
    ['checkpoint', 'show', missing],
    ['checkpoint', 'reset', missing, '--to', 'earliest', '--brokers', '127.0.0.1:1'],
  ]) {
    const result = await sluice(...argv)
    assert.deepEqual(result, {
      code: 2,
      stdout: '',
      stderr: `sluice: '${missing}' is not a sluice checkpoint directory: it does not exist [SLUICE_CHECKPOINT]\n`,
    })
  }
  const empty = join(base, 'empty')
  mkdirSync(empty)
  const result = await sluice('checkpoint', 'show', empty)
  assert.equal(result.code, 2)
  assert.equal(
    result.stderr,
    `sluice: '${empty}' is not a sluice checkpoint directory: it has no 'metadata' file [SLUICE_CHECKPOINT]\n`,
  )
  const file = join(base, 'file')
  writeFileSync(file, 'x')
  assert.match(
    (await sluice('checkpoint', 'show', file)).stderr,
    /it is not a directory \[SLUICE_CHECKPOINT\]\n$/,
  )
  assert.deepEqual(readdirSync(base).sort(), ['empty', 'file'], 'nothing was created')
  assert.deepEqual(readdirSync(empty), [])
})

test('checkpoint reset: usage errors exit 2 with one line naming the problem', async (t) => {
  const dir = join(tempDir(t, 'ckpt-usage'), 'ckpt')
  const cases: [string[], string][] = [
    [
      ['--to', 'soon'],
      `option '--to' must be earliest, latest, an ISO 8601 time or a .json file of offsets, got "soon"`,
    ],
    [
      ['--to', '2024-13-45T99:00Z'],
      `option '--to' is not a valid ISO 8601 time: "2024-13-45T99:00Z" (e.g. 2024-05-01T12:00:00Z)`,
    ],
    [['--to', 'earliest', '--partiton', '1'], "unknown option '--partiton' (did you mean '--partition'?)"],
    [['--to', 'earliest', '--partition', '1'], "option '--partition' needs '--topic'"],
    [['--to', 'earliest', '--partition', '-1', '--topic', 'x'], "option '--partition' needs a value (N)"],
    [[], "option '--to' is required"],
  ]
  for (const [flags, problem] of cases) {
    const result = await sluice('checkpoint', 'reset', dir, ...flags)
    assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr.split('\n')[0], `sluice checkpoint reset: ${problem}`)
    assert.match(
      result.stderr.split('\n')[1]!,
      /^usage: sluice checkpoint reset <dir> --to earliest\|latest\|TIME\|FILE \[--topic TOPIC\]/,
    )
  }
  const noDir = await sluice('checkpoint', 'show')
  assert.equal(noDir.code, 2)
  assert.equal(noDir.stderr.split('\n')[0], 'sluice checkpoint show: missing argument <dir>')
})

test('checkpoint reset from a file of offsets: --dry-run writes nothing; the reset replaces the pending batch with one that reads nothing', async (t) => {
  const base = tempDir(t, 'ckpt-reset')
  const dir = join(base, 'ckpt')
  await makeCheckpoint(dir, { pending: true })
  const offsets = join(base, 'offsets.json')
  writeFileSync(offsets, JSON.stringify({ words: { 0: 7, 1: '2' } }))

  const dry = await sluice('checkpoint', 'reset', dir, '--to', offsets, '--dry-run')
  assert.equal(dry.code, 0, dry.stderr)
  assert.equal(
    dry.stdout,
    'INPUT  TOPIC  PARTITION  CURRENT  NEW  NOTE\n' +
      'words  words          0        5    7\n' +
      'words  words          1        3    2\n' +
      'dry run: nothing was written; run it again without --dry-run to apply it\n',
  )
  assert.match(
    dry.stderr,
    /^warning: the offsets were not checked against the log: pass --brokers to check them$/m,
  )
  assert.match(dry.stderr, /^warning: batch 1 is pending \(planned, not committed\): the reset replaces it/m)
  assert.match(dry.stderr, /^warning: this job keeps state \(totals\)/m)
  assert.deepEqual(readdirSync(join(dir, 'commits')), ['0'], 'a dry run writes nothing')

  // Only one partition: the other keeps its position (the pending range's from-offset).
  const reset = await sluice(
    'checkpoint',
    'reset',
    dir,
    '--to',
    offsets,
    '--topic',
    'words',
    '--partition',
    '0',
  )
  assert.equal(reset.code, 0, reset.stderr)
  assert.match(
    reset.stdout,
    /^reset recorded as batch 1 of '.*': the next start of app 'orders' reads from the NEW positions$/m,
  )
  const store = await CheckpointStore.open(dir, { appName: 'orders', logger: silentLogger })
  t.after(() => store.close())
  const view = await store.recover()
  assert.equal(view.pendingBatch, undefined, 'nothing pending: the reset batch is committed')
  assert.equal(view.lastCommittedBatchId, 1)
  const words = view.latestEntry!.inputs.words!
  const plan = decodeKafkaPlan(words.plan!)
  assert.deepEqual(
    plan.ranges.map(({ range }) => String(range)),
    ['words-0 [7, 7)', 'words-1 [3, 3)'],
    'reads nothing; resumes at 7 and 3',
  )
  assert.deepEqual(plan.parked, [{ topic: 'old', partition: 0, offset: 7n }], 'parked positions are kept')
  assert.equal(plan.rateLimit, 1500)
  assert.deepEqual(words.state, { latestRate: 1500 }, 'the soft state is kept')
  assert.deepEqual(view.latestEntry!.inputs['queue-0'], { kind: 'queue', state: { next: 1 } })
  const commit = await store.readCommitted(1)
  assert.deepEqual((commit!.info as { reset: unknown }).reset, {
    by: 'sluice checkpoint reset',
    at: (commit!.info as { reset: { at: string } }).reset.at,
    to: offsets,
    positions: { words: { words: { 0: '7' } } },
    replacedPendingBatch: true,
  })
})

test('checkpoint reset appends a batch after a committed one, moves a parked position, and refuses what it cannot do', async (t) => {
  const base = tempDir(t, 'ckpt-reset')
  const dir = join(base, 'ckpt')
  await makeCheckpoint(dir, { pending: false })
  const offsets = join(base, 'offsets.json')
  writeFileSync(offsets, JSON.stringify({ old: { 0: '3' } }))
  const reset = await sluice('checkpoint', 'reset', dir, '--to', offsets)
  assert.equal(reset.code, 0, reset.stderr)
  assert.match(reset.stdout, /^words {2}old \(parked\)\s+0\s+7\s+3\s*$/m)
  assert.doesNotMatch(reset.stderr, /pending/)
  {
    await using store = await CheckpointStore.open(dir, { appName: 'orders', logger: silentLogger })
    const view = await store.recover()
    assert.equal(view.latestEntry!.batchId, 2)
    assert.equal(view.lastCommittedBatchId, 2)
    const plan = decodeKafkaPlan(view.latestEntry!.inputs.words!.plan!)
    assert.deepEqual(
      plan.ranges.map(({ range }) => String(range)),
      ['words-0 [9, 9)', 'words-1 [3, 3)'],
    )
    assert.deepEqual(plan.parked, [{ topic: 'old', partition: 0, offset: 3n }])
  }
  const unknown = join(base, 'unknown.json')
  writeFileSync(unknown, JSON.stringify({ words: { 5: 1 } }))
  const refused = await sluice('checkpoint', 'reset', dir, '--to', unknown)
  assert.equal(refused.code, 2)
  assert.equal(
    refused.stderr,
    'sluice: the offsets file names words-5, which the checkpoint has no position for (it knows old-0, words-0, ' +
      'words-1) [SLUICE_INVALID_ARGUMENT]\n',
  )
  const badFile = join(base, 'bad.json')
  writeFileSync(badFile, JSON.stringify({ words: { 0: -1 } }))
  assert.match(
    (await sluice('checkpoint', 'reset', dir, '--to', badFile)).stderr,
    /gives words-0 the offset -1/,
  )
  const noSuchInput = await sluice('checkpoint', 'reset', dir, '--to', offsets, '--input', 'queue-0')
  assert.equal(noSuchInput.code, 2)
  assert.match(
    noSuchInput.stderr,
    /input 'queue-0' is a queue input: only Kafka direct streams have offsets to reset/,
  )
  const noMatch = await sluice('checkpoint', 'reset', dir, '--to', 'earliest', '--topic', 'nope')
  assert.equal(noMatch.code, 2)
  assert.match(
    noMatch.stderr,
    /no position matches topic 'nope' \(the checkpoint knows old-0, words-0, words-1\)/,
  )
  const needsBrokers = await sluice('checkpoint', 'reset', dir, '--to', 'latest')
  assert.equal(needsBrokers.code, 2)
  assert.match(needsBrokers.stderr, /--to latest needs --brokers \(the cluster the job reads\)/)

  const pendingQueue = join(base, 'queue-pending')
  await makeCheckpoint(pendingQueue, { pending: true, queuePlanInPending: true })
  const queue = await sluice('checkpoint', 'reset', pendingQueue, '--to', offsets)
  assert.equal(queue.code, 1)
  assert.match(queue.stderr, /batch 1 is pending and input 'queue-0' \(a queue input\) planned data in it/)
  assert.deepEqual(readdirSync(join(pendingQueue, 'commits')), ['0'])
})

test('checkpoint reset refuses while a live process holds the lock, naming it; show still reads', async (t) => {
  const base = tempDir(t, 'ckpt-locked')
  const dir = join(base, 'ckpt')
  await makeCheckpoint(dir, { pending: false })
  const holder = spawn(
    process.execPath,
    [join(import.meta.dirname, '..', 'checkpoint', 'fixtures', 'hold-checkpoint.ts'), dir, 'orders'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  t.after(() => holder.kill('SIGKILL'))
  const [line] = await createInterface({ input: holder.stdout! })
    [Symbol.asyncIterator]()
    .next()
    .then((r) => [r.value])
  assert.equal(line, 'locked')
  const offsets = join(base, 'offsets.json')
  writeFileSync(offsets, JSON.stringify({ words: { 0: 1 } }))
  const refused = await sluice('checkpoint', 'reset', dir, '--to', offsets)
  assert.equal(refused.code, 1)
  assert.match(
    refused.stderr,
    new RegExp(
      `^sluice: checkpoint directory '${dir}' is locked by process ${holder.pid} on host '[^']+' .*\\[SLUICE_CHECKPOINT_LOCKED\\]\\n$`,
    ),
  )
  const dry = await sluice('checkpoint', 'reset', dir, '--to', offsets, '--dry-run')
  assert.equal(dry.code, 0)
  assert.match(
    dry.stderr,
    new RegExp(`^warning: process ${holder.pid} on host '[^']+' holds this checkpoint`, 'm'),
  )
  const shown = await sluice('checkpoint', 'show', dir, '--json')
  assert.equal(shown.code, 0, shown.stderr)
  assert.equal(JSON.parse(shown.stdout).lock.pid, holder.pid)
  assert.equal(JSON.parse(shown.stdout).lock.alive, true)
  assert.deepEqual(readdirSync(join(dir, 'commits')).sort(), ['0', '1'], 'nothing was written')
})
