// The three ways a sluice job can read Kafka that the receiver-vs-direct benchmark compares,
// built the same way by every case: the direct stream, and the receiver with and without
// its write-ahead log.
import { readFileSync } from 'node:fs'
import type { KafkaRecord } from '../src/kafka/records.ts'
import { createDirectStream } from '../src/source/direct-stream.ts'
import {
  createReceiverStream,
  type ReceiverInputDStream,
} from '../src/source/receiver/receiver-input-dstream.ts'
import type { InputDStream } from '../src/stream/input-dstream.ts'
import type { StreamingContext } from '../src/stream/streaming-context.ts'

export const MODES = ['direct', 'receiver-wal', 'receiver'] as const
export type Mode = (typeof MODES)[number]

export function isMode(value: string | undefined): value is Mode {
  return (MODES as readonly string[]).includes(value ?? '')
}

export interface InputSettings {
  readonly brokers: readonly string[]
  readonly topic: string
  /** Consumer group of the receiver (unused by the direct stream). */
  readonly group: string
  readonly startingOffsets: 'earliest' | 'latest'
  /** Records per second for the whole input; 0 = no limit. */
  readonly rate: number
  /** Partitions of the topic, to split the direct stream's rate. */
  readonly partitions: number
}

export function modeInput(
  ssc: StreamingContext,
  mode: Mode,
  s: InputSettings,
): InputDStream<KafkaRecord<Buffer, Buffer>> {
  if (mode === 'direct') {
    return createDirectStream(ssc, {
      brokers: s.brokers,
      subscribe: [s.topic],
      startingOffsets: s.startingOffsets,
      ...(s.rate > 0 ? { maxRatePerPartition: s.rate / s.partitions } : {}),
    })
  }
  return createReceiverStream(ssc, {
    brokers: s.brokers,
    topics: [s.topic],
    groupId: s.group,
    groupInstanceId: s.group,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    startingOffsets: s.startingOffsets,
    receiverMaxRate: s.rate,
    ...(mode === 'receiver-wal' ? { writeAheadLog: true } : { autoCommitInterval: 1_000 }),
  })
}

/** The receiver behind a mode's input, if it has one. */
export function receiverOf(input: InputDStream<unknown>): ReceiverInputDStream<Buffer, Buffer> | undefined {
  return input.kind === 'kafka-receiver' ? (input as ReceiverInputDStream<Buffer, Buffer>) : undefined
}

/** Bytes this process has caused to be written to storage so far (Linux), or undefined. */
export function storageBytesWritten(): number | undefined {
  try {
    const io = readFileSync('/proc/self/io', 'utf8')
    const match = /^write_bytes: (\d+)$/m.exec(io)
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}
