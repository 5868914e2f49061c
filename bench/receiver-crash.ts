// The crash part of receiver-vs-direct: one mode's job is SIGKILLed at random moments while
// it reads a topic under a rate limit, then a last run reads the rest; every copy of every
// record the batches wrote is counted.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaClient } from '../src/kafka/client.ts'
import type { Mode } from './receiver-modes.ts'

export interface CrashOutcome {
  readonly kills: number
  readonly produced: number
  /** Records processed by more than one batch: extra copies. */
  readonly duplicates: number
  /** Records no batch processed. */
  readonly lost: number
  readonly seconds: number
}

export interface CrashSettings {
  readonly client: KafkaClient
  readonly brokers: readonly string[]
  readonly topic: string
  readonly partitions: number
  readonly perPartition: number
  readonly mode: Mode
  readonly dir: string
  readonly kills: number
  readonly rate: number
  readonly seed: number
}

const job = join(import.meta.dirname, 'cases', 'receiver-crash-job.ts')

function start(args: readonly string[]): {
  child: ChildProcess
  started: Promise<void>
  exited: Promise<number | null>
} {
  const child = spawn(process.execPath, [job, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'error' },
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const started = (async () => {
    for await (const line of createInterface({ input: child.stdout! })) if (line === 'started') return
    throw new Error(`the ${args[3]} job exited before it started`)
  })()
  started.catch(() => {})
  return { child, started, exited }
}

/** Copies of each record found in the output, per partition and offset. */
function copies(out: string, partitions: number, perPartition: number): Uint16Array[] {
  const counts = Array.from({ length: partitions }, () => new Uint16Array(perPartition))
  for (const file of readdirSync(out)) {
    if (!file.endsWith('.txt')) continue
    for (const line of readFileSync(join(out, file), 'utf8').split('\n')) {
      if (line === '') continue
      const space = line.indexOf(' ')
      counts[Number(line.slice(0, space))]![Number(line.slice(space + 1))]!++
    }
  }
  return counts
}

function tally(counts: readonly Uint16Array[]): { distinct: number; duplicates: number } {
  let distinct = 0
  let duplicates = 0
  for (const partition of counts) {
    for (const n of partition) {
      if (n > 0) distinct++
      if (n > 1) duplicates += n - 1
    }
  }
  return { distinct, duplicates }
}

export async function crashRuns(s: CrashSettings): Promise<CrashOutcome> {
  const out = join(s.dir, 'out')
  mkdirSync(out, { recursive: true })
  const group = `bench-crash-${s.mode}-${Date.now()}`
  const args = (rate: number) => [
    s.brokers.join(','),
    s.topic,
    String(s.partitions),
    s.mode,
    group,
    join(s.dir, 'checkpoint'),
    out,
    String(rate),
  ]
  const total = s.partitions * s.perPartition
  let seed = s.seed
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed
  }
  const begun = performance.now()
  for (let i = 0; i < s.kills; i++) {
    const run = start(args(s.rate))
    await run.started
    await sleep(200 + (next() % 1300))
    run.child.kill('SIGKILL')
    await run.exited
  }
  const last = start(args(0))
  await last.started
  const deadline = Date.now() + 300_000
  let previous = -1
  for (;;) {
    await sleep(1_000)
    const { distinct } = tally(copies(out, s.partitions, s.perPartition))
    if (distinct === total) break
    // Without the log some records are gone for good: wait until the group is at the end and nothing more arrives.
    if (s.mode === 'receiver') {
      const group$ = await s.client.groupOffsets(group)
      const atEnd = group$.length === s.partitions && group$.every((g) => g.offset === BigInt(s.perPartition))
      if (atEnd && distinct === previous) break
    }
    if (Date.now() > deadline)
      throw new Error(`${s.mode}: the last run did not finish (${distinct} of ${total})`)
    previous = distinct
  }
  last.child.kill('SIGTERM')
  await last.exited
  const { distinct, duplicates } = tally(copies(out, s.partitions, s.perPartition))
  return {
    kills: s.kills,
    produced: total,
    duplicates,
    lost: total - distinct,
    seconds: (performance.now() - begun) / 1000,
  }
}
