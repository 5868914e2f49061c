import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { preparePythonEnv, pythonTestEnv } from '../scripts/python-tests.ts'
import type { CaseResult } from './env.ts'
import type { Bench } from './registry.ts'
import { ratio, summarize, table } from './stats.ts'
import { fillWithLines } from './text.ts'

const partitions = 8
const perPartition = 250_000
const repeats = 2

/** Runs the Python case with the project's venv, as the Python tests run. */
async function runPythonCase(file: string, args: readonly string[]): Promise<CaseResult> {
  const python = await preparePythonEnv()
  return new Promise((resolve, reject) => {
    const child = spawn(python, [file, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: pythonTestEnv(),
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.once('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? ''
      if (code !== 0) reject(new Error(`${file} exited with ${code}: ${out}`))
      else resolve(JSON.parse(line) as CaseResult)
    })
  })
}

export const pythonWordCount: Bench = {
  name: 'python-wordcount',
  description: `The stream-wordcount job (1 s batches, no rate limit, ${(partitions * perPartition).toLocaleString('en')} lines of 6-12 words in ${partitions} partitions) written in Python (functions in the Python worker pool, the engine as a child process) against the same job in TypeScript, alternating, median of ${repeats}. Peak RSS of the Python job is driver + engine + every worker.`,
  async run({ client, brokers, runCase }) {
    const topic = `bench-pywc-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    try {
      await fillWithLines(client, topic, partitions, perPartition)
      const args = [brokers.join(','), topic, String(partitions), String(perPartition), '1000']
      const runs: Record<'python' | 'typescript', CaseResult[]> = { python: [], typescript: [] }
      for (let i = 0; i < repeats; i++) {
        runs.typescript.push(await runCase(join(import.meta.dirname, 'cases', 'stream-wordcount.ts'), args))
        runs.python.push(await runPythonCase(join(import.meta.dirname, 'cases', 'python-wordcount.py'), args))
      }
      const python = summarize(runs.python)
      const typescript = summarize(runs.typescript)
      const last = runs.python.at(-1)?.extra ?? {}
      return [
        ...table([python, typescript]),
        '',
        `word count throughput, Python / TypeScript: **${ratio(python.recordsPerSecond, typescript.recordsPerSecond)}x** (aim: 0.5x)`,
        `peak RSS, Python job (driver + engine + workers) / TypeScript job: ${ratio(python.peakRssMb, typescript.peakRssMb)}x`,
        `last Python run: engine ${String(last.engineMb)} MB, workers ${JSON.stringify(last.workersMb)} MB, driver ${String(last.driverMb)} MB`,
      ]
    } finally {
      await client.deleteTopics([topic])
    }
  },
}
