// Produces `rate` records per second to a topic, in small sends every 10 ms, until killed.
import { createLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'

const [brokers = '', topic = '', rate = '1000', partitions = '1'] = process.argv.slice(2)
const client = new KafkaClient({ brokers: brokers!.split(','), logger: createLogger({ level: 'error' }) })
const perTick = Math.max(1, Math.round(Number(rate) / 100))
const value = Buffer.alloc(100, 'x')
const start = Date.now()
let sent = 0
process.stdout.write('producing\n')
for (;;) {
  // Catch up to the schedule rather than sleeping a fixed time, so the rate holds under load.
  const due = Math.floor(((Date.now() - start) / 1000) * Number(rate))
  if (due > sent) {
    const n = Math.min(due - sent, perTick * 10)
    await client.produce(
      Array.from({ length: n }, (_, i) => ({ topic, partition: (sent + i) % Number(partitions), value })),
    )
    sent += n
  }
  await new Promise((resolve) => setTimeout(resolve, 10))
}
