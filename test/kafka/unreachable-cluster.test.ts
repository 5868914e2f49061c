import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { freePort } from '../../src/local-servers/ports.ts'
import { createRDD } from '../../src/source/create-rdd.ts'

// No broker here: these clusters cannot be reached, and the errors must say which address and why.

function unreachableClient(t: import('node:test').TestContext, brokers: string[], extra = {}) {
  const client = new KafkaClient({ brokers, logger: silentLogger, retryTimeoutMs: 1500, ...extra })
  t.after(() => client.close())
  return client
}

test('a refused connection is retried until retryTimeoutMs, then names the broker and ECONNREFUSED', async (t) => {
  const port = await freePort()
  const client = unreachableClient(t, [`127.0.0.1:${port}`])
  const started = Date.now()
  await assert.rejects(client.metadata(['words']), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.KAFKA)
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`))
    assert.match(error.message, /ECONNREFUSED/)
    assert.match(error.message, /retried for 1500 ms/)
    return true
  })
  // The budget was spent retrying, not given up after the wire client's own quick retries.
  assert.ok(Date.now() - started >= 1400, 'retried for the whole budget')
})

test('every read and planning call retries the same way: listTopics, listOffsets, fetch, group offsets', async (t) => {
  const port = await freePort()
  const client = unreachableClient(t, [`127.0.0.1:${port}`], { retryTimeoutMs: 600 })
  const calls: [string, () => Promise<unknown>][] = [
    ['listTopics', () => client.listTopics()],
    ['listOffsets', () => client.listOffsets([{ topic: 'words', partition: 0 }], 'latest')],
    [
      'fetch',
      () =>
        client.fetch({
          topic: 'words',
          partition: 0,
          offset: 0n,
          maxBytes: 1024,
          isolationLevel: 'read_committed',
        }),
    ],
    ['groupOffsets', () => client.groupOffsets('wc', [{ topic: 'words', partition: 0 }])],
  ]
  for (const [name, call] of calls) {
    await assert.rejects(call(), (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.KAFKA, name)
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`), name)
      assert.match(error.message, /retried for 600 ms/, name)
      return true
    })
  }
})

test('a broker host that does not resolve is named with the DNS failure', async (t) => {
  const client = unreachableClient(t, ['no-such-broker.invalid:9092'])
  await assert.rejects(client.listTopics(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.KAFKA)
    assert.match(error.message, /no-such-broker\.invalid:9092/)
    assert.match(error.message, /ENOTFOUND|EAI_AGAIN/)
    assert.match(error.message, /DNS/)
    return true
  })
})

test('a broker that accepts connections but never answers is named with the timeout', async (t) => {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  const port = (server.address() as { port: number }).port
  const client = unreachableClient(t, [`127.0.0.1:${port}`], { requestTimeoutMs: 300, retryTimeoutMs: 1000 })
  await assert.rejects(client.metadata(['words']), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.KAFKA)
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`))
    assert.match(error.message, /timed out/)
    return true
  })
})

test('createRDD against an unreachable cluster fails its action naming every bootstrap broker', async () => {
  const ports = [await freePort(), await freePort()]
  const brokers = ports.map((p) => `127.0.0.1:${p}`)
  const rdd = createRDD({ brokers, logger: silentLogger, retryTimeoutMs: 800 }, [
    OffsetRange.create('words', 0, 0n, 10n),
  ])
  await assert.rejects(rdd.collect(), (error: SluiceError) => {
    for (const broker of brokers)
      assert.ok(error.message.includes(broker), `names ${broker}: ${error.message}`)
    assert.match(error.message, /ECONNREFUSED/)
    return true
  })
})
