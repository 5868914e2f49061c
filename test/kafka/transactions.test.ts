import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { tracingChannel } from 'node:diagnostics_channel'
import { type TestContext, test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { TransactionalProducer } from '../../src/kafka/transactions.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { consumeTopic } from '../helpers/topic-reader.ts'

function producer(t: TestContext, transactionalId: string): TransactionalProducer {
  const p = new TransactionalProducer({ brokers: bootstrap(), transactionalId, logger: silentLogger })
  t.after(() => p.close())
  return p
}

const txnId = () => `sluice-test-${randomBytes(6).toString('hex')}`

test('a committed transaction makes its records and its group offsets visible together', async (t) => {
  const client = testClient(t)
  const out = await createTestTopic(t, client, { partitions: 2, prefix: 'txn-out' })
  const source = await createTestTopic(t, client, { partitions: 2, prefix: 'txn-src' })
  const group = `group-${randomBytes(6).toString('hex')}`
  const p = producer(t, txnId())
  await p.init()
  await p.begin()
  await p.send([
    { topic: out, partition: 0, key: 'k0', value: 'v0' },
    { topic: out, partition: 1, key: 'k1', value: 'v1' },
    { topic: out, partition: 0, key: 'k2', value: 'v2' },
  ])
  await p.commitOffsets(group, [
    { topic: source, partition: 0, offset: 17n },
    { topic: source, partition: 1, offset: 4n },
  ])
  await p.commit()

  assert.deepEqual(await consumeTopic(out), [
    { partition: 0, offset: 0n, key: 'k0', value: 'v0' },
    { partition: 0, offset: 1n, key: 'k2', value: 'v2' },
    { partition: 1, offset: 0n, key: 'k1', value: 'v1' },
  ])
  assert.deepEqual(await client.groupOffsets(group, undefined, { requireStable: true }), [
    { topic: source, partition: 0, offset: 17n },
    { topic: source, partition: 1, offset: 4n },
  ])
})

test('an aborted transaction hides its records from read_committed readers and drops its offsets', async (t) => {
  const client = testClient(t)
  const out = await createTestTopic(t, client, { prefix: 'txn-out' })
  const source = await createTestTopic(t, client, { prefix: 'txn-src' })
  const group = `group-${randomBytes(6).toString('hex')}`
  const p = producer(t, txnId())
  await p.init()
  await p.begin()
  await p.send([{ topic: out, partition: 0, value: 'aborted' }])
  await p.commitOffsets(group, [{ topic: source, partition: 0, offset: 9n }])
  await p.abort()
  await p.begin()
  await p.send([{ topic: out, partition: 0, value: 'committed' }])
  await p.commit()

  assert.deepEqual(
    (await consumeTopic(out)).map((r) => [r.offset, r.value]),
    [[2n, 'committed']],
  )
  // The aborted record is in the log (offset 0, its abort marker at 1): only the isolation level hides it.
  assert.deepEqual(
    (await consumeTopic(out, 'read_uncommitted')).map((r) => [r.offset, r.value]),
    [
      [0n, 'aborted'],
      [2n, 'committed'],
    ],
  )
  assert.deepEqual(await client.groupOffsets(group, undefined, { requireStable: true }), [])
})

test('a second producer with the same transactional id aborts the first one’s transaction and fences it', async (t) => {
  const client = testClient(t)
  const out = await createTestTopic(t, client, { prefix: 'txn-out' })
  const id = txnId()
  const first = producer(t, id)
  await first.init()
  await first.begin()
  await first.send([{ topic: out, partition: 0, value: 'zombie' }])

  const second = producer(t, id)
  await second.init()
  const fenced = (error: SluiceError) =>
    error.code === ErrorCodes.FENCED &&
    error.message.startsWith(`transactional id '${id}' was fenced (`) &&
    error.message.endsWith(
      '): a newer producer with this id started, or a transaction stayed open longer than 60000 ms and the ' +
        'broker aborted it; this producer must stop',
    )
  await assert.rejects(first.send([{ topic: out, partition: 0, value: 'zombie again' }]), fenced)
  assert.equal(first.fenced, true)
  await assert.rejects(first.begin(), fenced)

  await second.begin()
  await second.send([{ topic: out, partition: 0, value: 'owner' }])
  await second.commit()
  assert.deepEqual(
    (await consumeTopic(out)).map((r) => r.value),
    ['owner'],
  )
})

test('a restarted producer takes its transactional id back and can commit', async (t) => {
  const client = testClient(t)
  const out = await createTestTopic(t, client, { prefix: 'txn-out' })
  const id = txnId()
  for (const value of ['run 1', 'run 2', 'run 3']) {
    const p = new TransactionalProducer({ brokers: bootstrap(), transactionalId: id, logger: silentLogger })
    await p.init()
    await p.begin()
    await p.send([{ topic: out, partition: 0, value }])
    await p.commit()
    await p.close()
  }
  assert.deepEqual(
    (await consumeTopic(out)).map((r) => r.value),
    ['run 1', 'run 2', 'run 3'],
  )
})

test('a transaction with nothing in it commits and aborts without a broker round trip', async (t) => {
  const client = testClient(t)
  const out = await createTestTopic(t, client, { prefix: 'txn-out' })
  const p = producer(t, txnId())
  await p.init()
  // Every request any wire connection of this process sends, by API key, from here on.
  const requests: number[] = []
  const api = tracingChannel('plt:kafka:connections:api')
  const onRequest = (message: unknown) => {
    requests.push((message as { apiKey: number }).apiKey)
  }
  api.start.subscribe(onRequest)
  t.after(() => api.start.unsubscribe(onRequest))

  await p.begin()
  await p.commit()
  await p.begin()
  await p.abort()
  assert.deepEqual(requests.slice(), [], 'no request reached the broker')
  assert.equal(p.inTransaction, false)
  await assert.rejects(p.commit(), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: `transactional producer '${p.transactionalId}' is not ready for that: call begin() first`,
  })

  // The same producer and channel do see the round trips of a transaction that holds a record.
  await p.begin()
  await p.send([{ topic: out, partition: 0, value: 'one' }])
  await p.commit()
  const addPartitionsToTxn = 24
  const produce = 0
  const endTxn = 26
  for (const key of [addPartitionsToTxn, produce, endTxn]) {
    assert.ok(requests.includes(key), `API ${key} was sent (seen: ${requests.join(', ')})`)
  }
})

test('invalid options fail at construction naming the option', () => {
  assert.throws(() => new TransactionalProducer({ brokers: bootstrap(), transactionalId: '' }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `TransactionalProducer: option 'transactionalId' must be a non-empty string, got a string ("")`,
  })
  assert.throws(
    () => new TransactionalProducer({ brokers: bootstrap(), transactionalId: 'x', transactionTimeoutMs: 0 }),
    {
      code: ErrorCodes.INVALID_OPTION,
      message:
        "TransactionalProducer: option 'transactionTimeoutMs' must be at least 1 (milliseconds), got 0",
    },
  )
})
