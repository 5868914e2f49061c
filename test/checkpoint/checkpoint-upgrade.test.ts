import assert from 'node:assert/strict'
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { Batch } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { bootstrap, testClient } from '../helpers/kafka.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const fixture = join(import.meta.dirname, 'fixtures', 'v1-direct-stream', 'checkpoint')
const topic = 'sluice-v1-fixture'

// The fixture's job, restarted by today's code: unnamed (its default name is the one the
// format-1 writer used), and named (a lone format-1 input is taken over by the job's lone
// Kafka input whatever the names).
for (const name of [undefined, 'words']) {
  test(`a format-1 checkpoint resumes exactly (input ${name ?? 'unnamed'}): the pending batch re-runs its ranges, planning goes on after them, rate state returns`, async (t) => {
    const client = testClient(t)
    await client.deleteTopics([topic]).catch(() => {})
    await client.createTopics([{ name: topic, partitions: 2 }])
    t.after(() => client.deleteTopics([topic]).catch(() => {}))
    await client.produce(Array.from({ length: 60 }, (_, i) => ({ topic, partition: i % 2, value: `r${i}` })))
    const dir = tempDir(t, 'v1-upgrade')
    await cp(fixture, dir, { recursive: true })

    const ssc = new StreamingContext({
      appName: 'v1-fixture',
      batchInterval: 100,
      checkpoint: dir,
      logger: silentLogger,
    })
    const stream = createDirectStream<string, string>(ssc, {
      ...(name === undefined ? {} : { name }),
      brokers: bootstrap(),
      subscribe: [topic],
      startingOffsets: 'latest', // must not apply: the checkpoint has positions
      deserializers: { value: 'string' },
      maxRatePerPartition: 50,
      backpressure: { enabled: true, initialRate: 60 },
    })
    const batches: { batch: Batch; values: string[] }[] = []
    const rateAtReplay: (number | undefined)[] = []
    ssc.addListener({
      onBatchStarted: (event) => {
        if (event.batchId === 4) rateAtReplay.push(stream.rateLimit)
      },
    })
    stream.foreachBatch(async (rdd, batch) => {
      batches.push({ batch, values: (await rdd.map((r) => r.value!).collect()).sort() })
      if (batch.id === 5) void ssc.stop()
    })
    await ssc.start()
    await ssc.awaitTermination()

    const [replayed, next] = batches
    assert.equal(replayed?.batch.id, 4)
    assert.equal(replayed.batch.replay, true)
    assert.equal(replayed.batch.time, 1796053122680)
    assert.deepEqual(replayed.batch.offsetRanges.map(String), [`${topic}-0 [16, 21)`, `${topic}-1 [16, 21)`])
    const expected = Array.from({ length: 10 }, (_, k) => `r${32 + k}`).sort()
    assert.deepEqual(replayed.values, expected)
    assert.deepEqual(rateAtReplay, [574.1176470588235])
    assert.equal(next?.batch.id, 5)
    assert.equal(next.batch.replay, false)
    assert.deepEqual(
      next.batch.offsetRanges.map((r) => [r.partition, r.fromOffset]),
      [
        [0, 21n],
        [1, 21n],
      ],
    )
    assert.equal(batches.length, 2)
    // The new entries are format 2, under the input's name now.
    const entry = JSON.parse(await readFile(join(dir, 'offsets', '5'), 'utf8'))
    assert.equal(entry.version, 2)
    assert.deepEqual(Object.keys(entry.inputs), [name ?? 'direct-kafka-0'])
    assert.deepEqual(
      entry.inputs[name ?? 'direct-kafka-0'].plan.ranges.map((r: { fromOffset: string }) => r.fromOffset),
      ['21', '21'],
    )
  })
}
