import { invalidOption } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { createLogger } from '../core/logger.ts'

export interface KafkaClientOptions {
  /** Bootstrap brokers as `host:port` strings. */
  readonly brokers: readonly string[]
  readonly clientId?: string
  readonly connectTimeoutMs?: number
  readonly requestTimeoutMs?: number
  /** How long retriable failures (leader moves, broker restarts, timeouts) are retried. */
  readonly retryTimeoutMs?: number
  /**
   * TLS for every broker connection, as `tls.connect` options (`ca` for a private CA, `cert`
   * and `key` for client certificates); plaintext when omitted. See docs/security.md.
   */
  readonly tls?: import('node:tls').ConnectionOptions
  /** A SASL login on every connection: PLAIN or SCRAM-SHA-256/512 (username, password), or OAUTHBEARER (token). */
  readonly sasl?: { mechanism: string; username?: string; password?: string; token?: string }
  readonly logger?: Logger
}

export interface ResolvedClientOptions {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly retryTimeoutMs: number
  readonly tls: import('node:tls').ConnectionOptions | undefined
  readonly sasl: KafkaClientOptions['sasl']
  readonly logger: Logger
}

const defaults = {
  clientId: 'sluice',
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  retryTimeoutMs: 30_000,
} as const

const hostPort = /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalidOption(name, `must be a positive integer (milliseconds), got ${String(value)}`)
  }
  return value
}

/** Validates client options once, at construction, and fills in defaults. */
export function resolveClientOptions(options: KafkaClientOptions, prefix = ''): ResolvedClientOptions {
  const name = (key: string) => `${prefix}${key}`
  if (options === null || typeof options !== 'object') {
    throw invalidOption(prefix.replace(/\.$/, '') || 'options', 'must be an object')
  }
  const brokers = options.brokers as unknown
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw invalidOption(name('brokers'), "must be a non-empty array of 'host:port' strings")
  }
  for (const broker of brokers) {
    if (typeof broker !== 'string' || !hostPort.test(broker)) {
      throw invalidOption(name('brokers'), `has an entry that is not 'host:port': ${JSON.stringify(broker)}`)
    }
  }
  const clientId = options.clientId ?? defaults.clientId
  if (typeof clientId !== 'string' || clientId.length === 0) {
    throw invalidOption(name('clientId'), 'must be a non-empty string')
  }
  return {
    brokers: [...brokers],
    clientId,
    connectTimeoutMs: positiveInteger(
      name('connectTimeoutMs'),
      options.connectTimeoutMs,
      defaults.connectTimeoutMs,
    ),
    requestTimeoutMs: positiveInteger(
      name('requestTimeoutMs'),
      options.requestTimeoutMs,
      defaults.requestTimeoutMs,
    ),
    retryTimeoutMs: positiveInteger(name('retryTimeoutMs'), options.retryTimeoutMs, defaults.retryTimeoutMs),
    tls: checkTls(options.tls, name('tls')),
    sasl: checkSasl(options.sasl, name('sasl')),
    logger: options.logger ?? createLogger(),
  }
}

const saslMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']

function checkTls(tls: unknown, option: string): KafkaClientOptions['tls'] {
  if (tls === undefined) return undefined
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) {
    throw invalidOption(option, 'must be an object of tls.connect options (use {} to trust the system CAs)')
  }
  return tls as KafkaClientOptions['tls']
}

function checkSasl(sasl: unknown, option: string): KafkaClientOptions['sasl'] {
  if (sasl === undefined) return undefined
  const given = sasl as Partial<NonNullable<KafkaClientOptions['sasl']>> | null
  if (given === null || typeof given !== 'object' || !saslMechanisms.includes(given.mechanism as string)) {
    throw invalidOption(
      `${option}.mechanism`,
      `must be one of ${saslMechanisms.join(', ')}, got ${JSON.stringify(given?.mechanism)}`,
    )
  }
  const fields =
    given.mechanism === 'OAUTHBEARER' ? (['token'] as const) : (['username', 'password'] as const)
  for (const field of fields) {
    if (typeof given[field] !== 'string' || given[field] === '') {
      throw invalidOption(`${option}.${field}`, `must be a non-empty string for ${given.mechanism}`)
    }
  }
  return given as KafkaClientOptions['sasl']
}

/**
 * The connection part of the wire client's options, for every client sluice builds (admin,
 * producer, transactional producer). Topics are never auto-created: a typo must fail.
 */
export function wireClientOptions(options: ResolvedClientOptions, role: string) {
  return {
    clientId: `${options.clientId}-${role}`,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    retries: 3,
    retryDelay: 250,
    autocreateTopics: false,
    ...connectionSecurity(options),
  }
}

/** TLS and SASL settings as every wire connection (clients and sluice's own fetch pools) takes them. */
export function connectionSecurity(options: ResolvedClientOptions) {
  return {
    ...(options.tls ? { tls: options.tls } : {}),
    // biome-ignore lint/suspicious/noExplicitAny: SASL options are passed through to the wire client as given
    ...(options.sasl ? { sasl: options.sasl as any } : {}),
  }
}
