// `npm run demo`: the main job on a local broker. Until the direct stream lands this is a
// round trip: start (or reuse) a broker, produce lines, read them back by offset range.
import { createLogger } from '../src/core/logger.ts'
import { KafkaClient } from '../src/kafka/client.ts'
import { readRange } from '../src/kafka/range-reader.ts'
import { startLocalKafka } from '../src/local-kafka/broker.ts'

const logger = createLogger({ level: 'warn' })
let stopBroker = async () => {}
let brokers = process.env.KAFKA_BOOTSTRAP?.split(',')
if (!brokers) {
  const { kafka, alreadyRunning } = await startLocalKafka({ dir: '.sluice/kafka', logger })
  brokers = [kafka.bootstrap]
  if (!alreadyRunning) stopBroker = () => kafka.stop()
  console.log(`broker: ${kafka.bootstrap}`)
}
const client = new KafkaClient({ brokers, logger })
try {
  const topic = `demo-${Date.now()}`
  await client.createTopics([{ name: topic, partitions: 2 }])
  const lines = ['to be or not to be', 'that is the question', 'whether tis nobler in the mind']
  await client.produce(lines.map((line, i) => ({ topic, partition: i % 2, value: line })))
  for (const partition of [0, 1]) {
    const [end] = await client.listOffsets([{ topic, partition }], 'lastStable')
    for await (const chunk of readRange(client, {
      topic,
      partition,
      from: 0n,
      until: end!.offset,
      isolationLevel: 'read_committed',
      maxBytesPerFetch: 1 << 20,
      key: (b) => b.toString(),
      value: (b) => b.toString(),
    })) {
      for (const record of chunk) console.log(`${topic}-${partition}@${record.offset}: ${record.value}`)
    }
  }
  await client.deleteTopics([topic])
} finally {
  await client.close()
  await stopBroker()
}
