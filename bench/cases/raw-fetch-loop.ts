// The raw loop counting records: the read ceiling.
import { caseArgs, report } from '../env.ts'
import { rawFetchLoop } from '../raw-loop.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
let records = 0
const started = performance.now()
await rawFetchLoop(brokers, topic, partitions, perPartition, () => {
  records++
})
report({ name: 'raw @platformatic/kafka fetch loop', records, ms: performance.now() - started })
