import { readFileSync } from 'node:fs'
import { isSluiceError, messageOf } from '../core/errors.ts'
import { type CliIo, defineGroup, runCommandLine } from './command.ts'
import { kafkaCommands } from './kafka-command.ts'
import { readCommand } from './read-command.ts'

/** Every command of `sluice`; a new command group is one more entry here. */
export const sluiceCommands = defineGroup({
  name: 'sluice',
  summary: "Spark Streaming's Kafka Direct API for Node.js",
  description: 'Commands to develop and operate sluice jobs.',
  commands: [kafkaCommands, readCommand],
})

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  readonly version: string
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}

/** Runs `sluice` with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    return await runCommandLine(sluiceCommands, argv, io, {
      name: 'sluice',
      version: packageJson.version,
      intro: `sluice ${packageJson.version} — Spark Streaming's Kafka Direct API for Node.js`,
    })
  } catch (error) {
    // A failure of the command itself: its message, never a stack trace.
    io.stderr(
      isSluiceError(error) ? `sluice: ${error.message} [${error.code}]\n` : `sluice: ${messageOf(error)}\n`,
    )
    return 1
  }
}
