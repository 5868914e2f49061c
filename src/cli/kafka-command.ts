import { cliLogger } from './cli-logger.ts'
import { defineCommand, defineGroup } from './command.ts'
import { portFlag, stringFlag } from './flags.ts'

export const defaultKafkaDir = '.sluice/kafka'

/** The broker code loads the Kafka client; `--help` and usage errors need neither. */
const broker = () => import('../local-kafka/broker.ts')

/** Exit code of `status` when no broker runs: like LSB init scripts' "program is not running". */
export const NOT_RUNNING = 3

const dirFlag = stringFlag({
  value: 'DIR',
  description: "the broker's home: data, logs and config",
  default: defaultKafkaDir,
})

const start = defineCommand({
  name: 'start',
  summary: 'start a local broker in the background',
  description:
    'Start a single-node Apache Kafka broker (KRaft, combined broker and controller) in the background, ' +
    'resolving Kafka from Maven Central on first use (needs Java 17+ and Maven). Starting twice on one ' +
    'directory reports the broker already running. The last line printed is bootstrap=<host:port>.',
  flags: {
    port: portFlag({ value: 'N', description: 'client port (default: the previous one, or a free one)' }),
    'controller-port': portFlag({ value: 'N', description: 'controller port (default: a free one)' }),
    dir: dirFlag,
  },
  examples: ['sluice kafka start', 'sluice kafka start --port 9092 --dir /tmp/kafka'],
  async run({ flags, io }) {
    const port = flags.port
    const { kafka, alreadyRunning } = await (await broker()).startLocalKafka({
      dir: flags.dir,
      ...(port === undefined ? {} : { port }),
      ...(flags['controller-port'] === undefined ? {} : { controllerPort: flags['controller-port'] }),
      logger: cliLogger(),
    })
    if (alreadyRunning) {
      io.stdout(`a broker is already running from ${kafka.state.dir} (pid ${kafka.state.pid})\n`)
      if (port !== undefined && port !== kafka.state.port) {
        io.stdout(`it listens on ${kafka.state.port}, not ${port}; stop it first to change the port\n`)
      }
    } else {
      io.stdout(
        `started Apache Kafka ${kafka.state.kafkaVersion} (pid ${kafka.state.pid}), logs in ${kafka.serverLog}\n`,
      )
    }
    io.stdout(`bootstrap=${kafka.bootstrap}\n`)
    return 0
  },
})

const stop = defineCommand({
  name: 'stop',
  summary: 'stop it (its data is kept)',
  flags: { dir: dirFlag },
  async run({ flags, io }) {
    const stopped = await (await broker()).stopLocalKafka(flags.dir)
    io.stdout(stopped ? `stopped the broker in ${flags.dir}\n` : `no broker is running in ${flags.dir}\n`)
    return 0
  },
})

const status = defineCommand({
  name: 'status',
  summary: 'is it running, and where',
  description: `Print whether a broker runs from the directory, and its bootstrap address. Exits 0 when it runs, ${NOT_RUNNING} when it does not.`,
  flags: { dir: dirFlag },
  async run({ flags, io }) {
    const found = await (await broker()).localKafkaStatus(flags.dir)
    if (!found.state) {
      io.stdout(`stopped (no broker running in ${flags.dir})\n`)
      return NOT_RUNNING
    }
    io.stdout(`${found.ready ? 'running' : 'starting'} pid=${found.state.pid} dir=${found.state.dir}\n`)
    io.stdout(`bootstrap=${found.state.bootstrap}\n`)
    return 0
  },
})

/** `sluice kafka start|stop|status`: a development broker from Maven Central. */
export const kafkaCommands = defineGroup({
  name: 'kafka',
  summary: 'a local development broker: start, stop, status',
  description: 'A local Apache Kafka broker for development and tests, with its data in one directory.',
  commands: [start, stop, status],
})
