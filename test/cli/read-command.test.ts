import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { produceTransaction } from '../helpers/transactions.ts'

const run = promisify(execFile)
const cli = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')

async function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

test('sluice read prints a range of records as JSON lines, one partition or all', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await client.produce(
    Array.from({ length: 6 }, (_, i) => ({ topic, partition: i % 2, key: `k${i}`, value: `v${i}` })),
  )
  const brokers = bootstrap().join(',')
  const one = await sluice('read', topic, '--brokers', brokers, '--partition', '1', '--from', '1')
  assert.equal(one.code, 0, one.stderr)
  const records = one.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  assert.deepEqual(
    records.map(({ partition, offset, key, value }) => ({ partition, offset, key, value })),
    [
      { partition: 1, offset: '1', key: 'k3', value: 'v3' },
      { partition: 1, offset: '2', key: 'k5', value: 'v5' },
    ],
  )
  assert.ok(records.every((r) => typeof r.timestamp === 'number'))
  // Not a terminal: no progress bar.
  assert.equal(one.stderr, '')
  const all = await sluice('read', topic, '--brokers', brokers, '--until', '2')
  assert.deepEqual(
    all.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).value)
      .sort(),
    ['v0', 'v1', 'v2', 'v3'],
  )
})

test('sluice read --count reads to count: aborted transactions and markers do not count', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await client.produce([0, 1, 2].map((i) => ({ topic, partition: 0, value: `plain-${i}` })))
  await produceTransaction(topic, 1, ['kept'], 'commit')
  await produceTransaction(topic, 1, ['dropped'], 'abort')
  const result = await sluice('read', topic, '--brokers', bootstrap().join(','), '--count')
  assert.equal(result.code, 0, result.stderr)
  const lines = result.stdout.trim().split('\n')
  assert.equal(lines[0], `${topic}-0 [0, 3): 3 records`)
  // Four offsets (a record and a marker per transaction) hold one committed record.
  assert.equal(lines[1], `${topic}-1 [0, 4): 1 record`)
  assert.equal(lines[2], 'total: 4 records')
})

test('sluice read refuses a missing topic, a bad offset and an unknown flag', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 1 })
  const brokers = bootstrap().join(',')
  const missing = await sluice('read', `${topic}-nope`, '--brokers', brokers)
  assert.equal(missing.code, 1)
  assert.match(
    missing.stderr,
    new RegExp(`topic '${topic}-nope' does not exist \\[SLUICE_UNKNOWN_TOPIC_OR_PARTITION\\]`),
  )
  const bad = await sluice('read', topic, '--brokers', brokers, '--from', 'soon')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^sluice read: option '--from' must be 'earliest', 'latest' or an offset\n/)
  const unknown = await sluice('read', topic, '--brokers', brokers, '--coutn')
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /^sluice read: unknown option '--coutn' \(did you mean '--count'\?\)\n/)
  const noBrokers = await sluice('read', topic)
  assert.equal(noBrokers.code, 2)
  assert.match(
    noBrokers.stderr,
    /^sluice read: option '--brokers' is required\nusage: sluice read <topic> \[--brokers/,
  )
})
