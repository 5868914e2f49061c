import { isSluiceError } from '../core/errors.ts'
import { kafkaCommand } from './kafka-command.ts'
import { readCommand } from './read-command.ts'

const usage = `sluice — Spark Streaming's Kafka Direct API for Node.js

commands:
  sluice kafka start|stop|status [--dir D] [--port N]   a local development broker
  sluice read <topic> --brokers B [--partition N] [--from earliest|N] [--until latest|N] [--count]
                                                       a topic's records as JSON lines, or their exact count`

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'kafka':
      return kafkaCommand(rest)
    case 'read':
      return readCommand(rest)
    case undefined:
    case 'help':
    case '--help':
      console.log(usage)
      return 0
    default:
      console.error(`unknown command '${command}'\n\n${usage}`)
      return 2
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  console.error(isSluiceError(error) ? `sluice: ${error.message} [${error.code}]` : error)
  process.exitCode = 1
}
