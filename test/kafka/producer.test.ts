import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { freePort } from '../../src/local-servers/ports.ts'

// No broker: a record of the wrong shape must be refused before anything connects, so the
// client points at a port nothing listens on and a connection attempt would fail differently.

async function clientNowhere(t: import('node:test').TestContext): Promise<KafkaClient> {
  const client = new KafkaClient({
    brokers: [`127.0.0.1:${await freePort()}`],
    logger: silentLogger,
    retryTimeoutMs: 200,
  })
  t.after(() => client.close())
  return client
}

const cases: [string, unknown, RegExp][] = [
  [
    'one record instead of an array',
    { topic: 'words', value: 'a' },
    /^produce expects an array of records .*got an object/,
  ],
  ['a string in the array', ['a'], /^produce record 0 must be an object .*got a string \("a"\)/],
  ['no topic', [{ value: 'a' }], /^produce record 0 needs 'topic', a non-empty string; got undefined/],
  [
    'a misspelt field',
    [{ topic: 'words', vaule: 'a' }],
    /record 0 \(topic 'words'\) has an unknown field 'vaule'; did you mean 'value'\?/,
  ],
  [
    'no value',
    [{ topic: 'words' }],
    /record 0 \(topic 'words'\) needs 'value' \(null for a record without one\)/,
  ],
  [
    'a negative partition',
    [{ topic: 'words', value: 'a', partition: -1 }],
    /'partition' must be an integer >= 0, got a number \(-1\)/,
  ],
  [
    'a number as the value',
    [
      { topic: 'words', value: 'a' },
      { topic: 'words', value: 7 },
    ],
    /^produce record 1 \(topic 'words'\): 'value' must be a string, a Buffer or null, got a number \(7\)/,
  ],
  [
    'an object as the key',
    [{ topic: 'words', key: {}, value: 'a' }],
    /'key' must be a string, a Buffer or null, got an object/,
  ],
]

for (const [name, records, message] of cases) {
  test(`produce refuses ${name}, naming the record and field, before connecting`, async (t) => {
    const client = await clientNowhere(t)
    await assert.rejects(client.produce(records as never), (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.INVALID_ARGUMENT)
      assert.match(error.message, message)
      return true
    })
  })
}

test('produce of no records sends nothing and connects to nothing', async (t) => {
  const client = await clientNowhere(t)
  assert.deepEqual(await client.produce([]), [])
})
