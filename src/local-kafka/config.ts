/** Files that configure a single-node KRaft broker (combined broker + controller). */
export interface BrokerLayout {
  readonly port: number
  readonly controllerPort: number
  readonly dataDir: string
  readonly logsDir: string
  /** Extra or overriding broker settings. */
  readonly overrides?: Readonly<Record<string, string>>
}

/**
 * Settings tuned for a development broker on a small machine: one replica everywhere, few
 * internal partitions (fast group/transaction coordinator start), no topic auto-creation
 * (a typo should fail, not create a topic), and a log cleaner that wakes often so
 * compaction can be observed in tests.
 */
export function serverProperties(layout: BrokerLayout): string {
  const settings: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${layout.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${layout.port},CONTROLLER://127.0.0.1:${layout.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${layout.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': layout.dataDir,
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '4',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '4',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'log.cleaner.backoff.ms': '500',
    'log.retention.check.interval.ms': '5000',
    'delete.topic.enable': 'true',
    ...layout.overrides,
  }
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`
}

/** log4j2 properties: everything at INFO into server.log, the noisy request logger kept quiet. */
export function log4jProperties(logsDir: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logsDir}/server.log`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = WARN',
    'logger.request.additivity = false',
    'logger.request.appenderRef.file.ref = FILE',
    '',
  ].join('\n')
}
