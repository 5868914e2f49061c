import type { Logger } from '../src/core/logger.ts'
import type { KafkaClient } from '../src/kafka/client.ts'
import { crc32cBench } from './crc32c.ts'
import type { CaseResult } from './env.ts'
import { kafkaRddCount } from './kafka-rdd-count.ts'
import { observeOverhead } from './observe-overhead.ts'
import { pythonWordCount } from './python-wordcount.ts'
import { receiverVsDirect } from './receiver-vs-direct.ts'
import { scaleOut } from './scale-out.ts'
import { sinkWordCount } from './sink-wordcount.ts'
import { stateUpdateBench, windowInverseBench } from './state.ts'
import { streamInterval } from './stream-interval.ts'
import { streamMemory } from './stream-memory.ts'
import { streamWordCount } from './stream-wordcount.ts'

export interface BenchContext {
  readonly client: KafkaClient
  readonly brokers: readonly string[]
  readonly logger: Logger
  readonly runCase: (
    file: string,
    args: readonly string[],
    nodeFlags?: readonly string[],
  ) => Promise<CaseResult>
}

export interface Bench {
  readonly name: string
  readonly description: string
  /** Returns the lines of its report (a Markdown table and the ratios). */
  run(context: BenchContext): Promise<string[]>
}

export const benches: readonly Bench[] = [
  kafkaRddCount,
  streamWordCount,
  crc32cBench,
  streamMemory,
  streamInterval,
  stateUpdateBench,
  windowInverseBench,
  sinkWordCount,
  receiverVsDirect,
  observeOverhead,
  pythonWordCount,
  scaleOut,
]
