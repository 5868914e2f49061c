// The raw loop counting records: the read ceiling.
import { caseArgs, report, SteadyClock } from '../env.ts'
import { rawFetchLoop } from '../raw-loop.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
let records = 0
const clock = new SteadyClock()
await rawFetchLoop(brokers, topic, partitions, perPartition, () => {
  clock.sawRecord()
  records++
})
const { ms, cpuMs, startupMs } = clock.stop()
report({ name: 'raw @platformatic/kafka fetch loop', records, ms, extra: { cpuMs, startupMs } })
