// `npm run bench`: benchmarks against a real broker (a private one, or KAFKA_BOOTSTRAP).
// Every figure is reported as a ratio against a peer measured in the same run: absolute
// numbers depend on the machine, ratios much less. `npm run bench -- <name>` runs one bench.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeCase, runProcessCase } from '../bench/case-process.ts'
import type { CaseResult } from '../bench/env.ts'
import { benches } from '../bench/registry.ts'
import { createLogger } from '../src/core/logger.ts'
import { KafkaClient } from '../src/kafka/client.ts'
import { startLocalKafka, stopLocalKafka } from '../src/local-kafka/broker.ts'
import { nodeOptionsWithSources } from './source-condition.ts'

const only = process.argv.slice(2)
// Cases run in their own processes, and some import 'sluice' (through the examples).
process.env.NODE_OPTIONS = nodeOptionsWithSources()
const logger = createLogger({ level: 'warn' })
let brokerDir: string | undefined
let brokers = process.env.KAFKA_BOOTSTRAP?.split(',')

/** Runs one case in its own Node 24 process and parses its JSON report. */
export function runCase(
  file: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): Promise<CaseResult> {
  return runProcessCase(nodeCase(file, args, nodeFlags))
}

try {
  if (!brokers) {
    brokerDir = mkdtempSync(join(tmpdir(), 'sluice-bench-kafka-'))
    const { kafka } = await startLocalKafka({ dir: brokerDir, logger, heapMb: 1024 })
    brokers = [kafka.bootstrap]
  }
  const client = new KafkaClient({ brokers, logger })
  try {
    for (const bench of benches) {
      if (only.length > 0 && !only.some((name) => bench.name.includes(name))) continue
      console.log(`\n## ${bench.name}\n${bench.description}\n`)
      const lines = await bench.run({ client, brokers, runCase, logger })
      for (const line of lines) console.log(line)
    }
  } finally {
    await client.close()
  }
} finally {
  if (brokerDir) {
    await stopLocalKafka(brokerDir)
    rmSync(brokerDir, { recursive: true, force: true })
  }
}
