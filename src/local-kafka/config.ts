import type { BrokerCertificates } from './certificates.ts'

/** A SASL/SCRAM user of a secured development broker. */
export interface ScramUser {
  readonly username: string
  readonly password: string
}

/** The mechanism secured development brokers use: the strongest SCRAM Kafka offers. */
export const scramMechanism = 'SCRAM-SHA-512'

/** Files that configure a single-node KRaft broker (combined broker + controller). */
export interface BrokerLayout {
  readonly port: number
  readonly controllerPort: number
  readonly dataDir: string
  readonly logsDir: string
  /** Extra or overriding broker settings. */
  readonly overrides?: Readonly<Record<string, string>>
  /**
   * A SASL_SSL client listener instead of PLAINTEXT: TLS with the given certificates, and
   * SCRAM-SHA-512 logins; the broker logs in to itself (inter-broker) as `brokerUser`.
   */
  readonly security?: { readonly certificates: BrokerCertificates; readonly brokerUser: ScramUser }
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
    ...listenerSettings(layout),
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

function listenerSettings(layout: BrokerLayout): Record<string, string> {
  const client = layout.security ? 'SASL_SSL' : 'PLAINTEXT'
  const common = {
    listeners: `${client}://127.0.0.1:${layout.port},CONTROLLER://127.0.0.1:${layout.controllerPort}`,
    'advertised.listeners': `${client}://127.0.0.1:${layout.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': client,
    'listener.security.protocol.map': `CONTROLLER:PLAINTEXT,${client}:${client}`,
  }
  if (!layout.security) return common
  const { certificates, brokerUser } = layout.security
  return {
    ...common,
    'sasl.enabled.mechanisms': scramMechanism,
    'sasl.mechanism.inter.broker.protocol': scramMechanism,
    [`listener.name.sasl_ssl.${scramMechanism.toLowerCase()}.sasl.jaas.config`]:
      'org.apache.kafka.common.security.scram.ScramLoginModule required ' +
      `username="${brokerUser.username}" password="${brokerUser.password}";`,
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': certificates.keystore,
    'ssl.keystore.password': certificates.password,
    'ssl.key.password': certificates.password,
    // The broker trusts the CA for its own inter-broker connections (PEM truststores: KIP-651).
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': certificates.caPem,
    'ssl.client.auth': 'none',
  }
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
