import { createLogger } from '../core/logger.ts'
import { localKafkaStatus, startLocalKafka, stopLocalKafka } from '../local-kafka/broker.ts'
import { parseArgs } from './args.ts'

export const defaultKafkaDir = '.sluice/kafka'

const usage = `usage:
  sluice kafka start [--port N] [--dir D]   start a local broker in the background
  sluice kafka stop [--dir D]               stop it (data is kept)
  sluice kafka status [--dir D]             is it running, and where`

/** `sluice kafka start|stop|status`: a development broker from Maven Central. */
export async function kafkaCommand(argv: readonly string[]): Promise<number> {
  const { positionals, flags } = parseArgs(argv, new Set(['port', 'dir', 'controller-port']))
  const dir = String(flags.get('dir') ?? defaultKafkaDir)
  switch (positionals[0]) {
    case 'start': {
      const port = flags.has('port') ? Number(flags.get('port')) : undefined
      const { kafka, alreadyRunning } = await startLocalKafka({
        dir,
        ...(port === undefined ? {} : { port }),
        logger: createLogger({ level: process.env.SLUICE_LOG_LEVEL === undefined ? 'warn' : undefined }),
      })
      if (alreadyRunning) {
        console.log(`a broker is already running from ${kafka.state.dir} (pid ${kafka.state.pid})`)
        if (port !== undefined && port !== kafka.state.port) {
          console.log(`it listens on ${kafka.state.port}, not ${port}; stop it first to change the port`)
        }
      } else {
        console.log(
          `started Apache Kafka ${kafka.state.kafkaVersion} (pid ${kafka.state.pid}), logs in ${kafka.serverLog}`,
        )
      }
      console.log(`bootstrap=${kafka.bootstrap}`)
      return 0
    }
    case 'stop': {
      const stopped = await stopLocalKafka(dir)
      console.log(stopped ? `stopped the broker in ${dir}` : `no broker is running in ${dir}`)
      return 0
    }
    case 'status': {
      const status = await localKafkaStatus(dir)
      if (!status.state) {
        console.log(`stopped (no broker running in ${dir})`)
        return 1
      }
      console.log(`${status.ready ? 'running' : 'starting'} pid=${status.state.pid} dir=${status.state.dir}`)
      console.log(`bootstrap=${status.state.bootstrap}`)
      return 0
    }
    default:
      console.error(usage)
      return 2
  }
}
