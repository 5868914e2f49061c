import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually } from '../helpers/eventually.ts'
import { brokerWithClient, produceValues, startStream, topicOf, values } from '../helpers/outage-stream.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'

test('a graceful stop while the broker is down gives up retrying at once, moves no offset, and says so', {
  // Far below the stream's retryTimeoutMs (10 min): a stop that waited out the retries would
  // time the test out.
  timeout: 240_000,
}, async (t) => {
  const { kafka, client } = await brokerWithClient(t)
  const topic = await topicOf(t, client, 'stop-in-outage', 2)
  const checkpoint = tempDir(t, 'outage-ckpt')
  await produceValues(client, topic, 2, 0, 200)
  const log = recordingLogger('info')
  const first = await startStream(t, kafka, topic, checkpoint, {
    retryTimeoutMs: 600_000,
    logger: log.logger,
  })
  await first.waitForValues(200)

  await kafka.kill()
  // Started again before the test ends, also when it fails: its cleanup needs the broker.
  try {
    // Planning the next batches now fails and retries.
    await eventually(
      () => log.messages('warn').includes('a Kafka call failed; retrying'),
      'planning retrying against the killed broker',
    )
    await first.ssc.stop({ graceful: true })
    assert.equal(await first.ended, undefined, 'the stream stopped without failing')
    const stopped = log.entries.find((e) => e.msg.startsWith('stopped while planning a batch'))
    assert.ok(stopped, `a log line says planning gave up (${log.messages('warn').join(' | ')})`)
    assert.match(String(stopped.error), /not retried: stopping/)
    assert.match(String(stopped.error), new RegExp(`127\\.0\\.0\\.1:${kafka.state.port}`))
  } finally {
    await kafka.start()
  }

  // Nothing moved: a restart reads exactly what the first run did not.
  await produceValues(client, topic, 2, 200, 200)
  const second = await startStream(t, kafka, topic, checkpoint)
  await second.waitForValues(200)
  await second.ssc.stop({ graceful: true })
  assert.equal(await second.ended, undefined)
  assert.deepEqual(second.seen.sort(), values(200, 400).sort())
  assert.deepEqual(
    second.infos.map((i) => i.id),
    second.infos.map((_, i) => first.infos.length + i),
    "the second run goes on from the first run's last batch",
  )
})
