// The raw loop doing the word count by hand in a Map: the peer of the stream word count.
import { caseArgs, report } from '../env.ts'
import { rawFetchLoop } from '../raw-loop.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const counts = new Map<string, number>()
let records = 0
const started = performance.now()
await rawFetchLoop(brokers, topic, partitions, perPartition, (value) => {
  if (value === null) return
  records++
  for (const word of value.toString('utf8').split(' ')) counts.set(word, (counts.get(word) ?? 0) + 1)
})
report({
  name: 'raw @platformatic/kafka loop + Map word count',
  records,
  ms: performance.now() - started,
  extra: { distinct: counts.size },
})
