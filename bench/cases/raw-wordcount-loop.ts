// The raw loop doing the word count by hand in a Map: the peer of the stream word count.
import { caseArgs, report, SteadyClock } from '../env.ts'
import { rawFetchLoop } from '../raw-loop.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const counts = new Map<string, number>()
let records = 0
const clock = new SteadyClock()
await rawFetchLoop(brokers, topic, partitions, perPartition, (value) => {
  clock.sawRecord()
  if (value === null) return
  records++
  for (const word of value.toString('utf8').split(' ')) counts.set(word, (counts.get(word) ?? 0) + 1)
})
const { ms, cpuMs, startupMs } = clock.stop()
report({
  name: 'raw @platformatic/kafka loop + Map word count',
  records,
  ms,
  extra: { distinct: counts.size, cpuMs, startupMs },
})
