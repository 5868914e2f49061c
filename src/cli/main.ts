import { readFileSync } from 'node:fs'
import { isSluiceError, messageOf } from '../core/errors.ts'
import { checkpointResetCommand } from './checkpoint-reset-command.ts'
import { checkpointShowCommand } from './checkpoint-show-command.ts'
import { type CliIo, defineGroup, runCommandLine } from './command.ts'
import { ArgumentError } from './flags.ts'
import { kafkaCommands } from './kafka-command.ts'
import { offsetsResetCommand } from './offsets-reset-command.ts'
import { offsetsShowCommand } from './offsets-show-command.ts'
import { readCommand } from './read-command.ts'

const checkpointCommands = defineGroup({
  name: 'checkpoint',
  summary: "a job's checkpoint: show where it stands, reset its positions",
  description:
    'Inspect and change a checkpoint directory. `show` reads it without its lock, even while the job runs; ' +
    '`reset` moves the positions of a stopped job.',
  commands: [checkpointShowCommand, checkpointResetCommand],
})

const offsetsCommands = defineGroup({
  name: 'offsets',
  summary: 'the offsets a sink stores: show them, reset them',
  description:
    'Inspect and move the offsets an exactly-once sink (SQL or Kafka) stores for an app, where a job without ' +
    'a checkpoint resumes.',
  commands: [offsetsShowCommand, offsetsResetCommand],
})

/** Every command of `sluice`; a new command group is one more entry here. */
export const sluiceCommands = defineGroup({
  name: 'sluice',
  summary: "Spark Streaming's Kafka Direct API for Node.js",
  description: 'Commands to develop and operate sluice jobs.',
  commands: [kafkaCommands, checkpointCommands, offsetsCommands, readCommand],
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
    // A failure of the command itself: its message, never a stack trace. An argument that
    // named the wrong thing exits 2, as a usage error does.
    io.stderr(
      isSluiceError(error) ? `sluice: ${error.message} [${error.code}]\n` : `sluice: ${messageOf(error)}\n`,
    )
    return error instanceof ArgumentError ? 2 : 1
  }
}
