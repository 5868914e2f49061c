// sluice: createRDD over every partition, forcing a full read with map(() => 1).reduce(+).
import { silentLogger } from '../../src/core/logger.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { caseArgs, report } from '../env.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const ranges = Array.from({ length: partitions }, (_, p) =>
  OffsetRange.create(topic, p, 0n, BigInt(perPartition)),
)
const rdd = createRDD({ brokers, logger: silentLogger }, ranges)
const started = performance.now()
const records = await rdd.map(() => 1).reduce((a, b) => a + b)
report({ name: 'sluice createRDD map/reduce', records, ms: performance.now() - started })
