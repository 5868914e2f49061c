// Runs one benchmark case as a child process and parses the JSON line it prints last. Every
// case runs in its own process so that its peak RSS is its own; a case can be any program
// (a Node file, a JVM) as long as it prints a CaseResult.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { CaseResult } from './env.ts'

export interface CaseCommand {
  readonly command: string
  readonly args: readonly string[]
}

export function runProcessCase({ command, args }: CaseCommand): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    // A stream logs a line per batch at info; a benchmark reports its own figures instead.
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'warn' },
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.once('error', reject)
    child.once('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? ''
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${out}`))
      else resolve(JSON.parse(line) as CaseResult)
    })
  })
}

/** A TypeScript case file run on the Node that runs the benchmarks (24, type stripping). */
export function nodeCase(
  file: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): CaseCommand {
  return { command: process.execPath, args: [...nodeFlags, file, ...args] }
}

/**
 * The same command confined to one CPU with `taskset`: every thread of the process (V8's or
 * the JVM's garbage collector and compiler threads included) shares that CPU, so a peer with
 * more helper threads gets no more processor than one with fewer. Undefined when the machine
 * has no taskset.
 */
export function onOneCore(command: CaseCommand, cpu = 0): CaseCommand | undefined {
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path))
  if (taskset === undefined) return undefined
  return { command: taskset, args: ['-c', String(cpu), command.command, ...command.args] }
}
