import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { invalidOption } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import {
  arrayOption,
  booleanOption,
  customOption,
  durationMs,
  functionOption,
  loggerOption,
  nonEmptyString,
  type OptionType,
  oneOf,
  optionPath,
  optionsObject,
  parseOptions,
  required,
  stringOption,
} from '../core/options.ts'

/** SASL authentication (Kafka's SASL_PLAINTEXT or, with `tls`, SASL_SSL listeners). */
export interface SaslOptions {
  /** PLAIN and SCRAM need `username` and `password`; OAUTHBEARER needs `token`. */
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER'
  readonly username?: string
  readonly password?: string
  /** The bearer token for OAUTHBEARER. */
  readonly token?: string
}

/** TLS settings: Node's `tls.connect` options (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`...). */
export type TlsOptions = TlsConnectionOptions

/** How sluice connects to a Kafka cluster: client id, timeouts, TLS and SASL. */
export interface KafkaConnectionOptions {
  /** Sent to the brokers to name this client in their logs and quotas. Default 'sluice'. */
  readonly clientId?: string
  /** How long opening a connection to a broker may take. Default 10 s. */
  readonly connectTimeoutMs?: number
  /** How long a request may wait for its answer. Default 30 s. */
  readonly requestTimeoutMs?: number
  /** How long retriable failures (leader moves, broker restarts, timeouts) are retried. Default 30 s. */
  readonly retryTimeoutMs?: number
  /** Connect with TLS, with these `tls.connect` options (`{}` for the defaults); plaintext when omitted. */
  readonly tls?: TlsOptions
  /** Authenticate with SASL. */
  readonly sasl?: SaslOptions
}

/** The options of sluice's Kafka client: where the cluster is, how to connect, where to log. */
export interface KafkaClientOptions extends KafkaConnectionOptions {
  /** Bootstrap brokers as `host:port` strings. */
  readonly brokers: readonly string[]
  readonly logger?: Logger
}

export interface ResolvedClientOptions {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly retryTimeoutMs: number
  readonly tls: TlsOptions | undefined
  readonly sasl: SaslOptions | undefined
  readonly logger: Logger
}

const CLIENT_DEFAULTS = {
  clientId: 'sluice',
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  retryTimeoutMs: 30_000,
} as const

const hostPort = /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/

export const brokerList: OptionType<string[]> = arrayOption(
  stringOption({
    expected: "a 'host:port' string",
    problem: (broker) =>
      hostPort.test(broker) ? undefined : `is not 'host:port': ${JSON.stringify(broker)}`,
  }),
  { nonEmpty: true, expected: "a non-empty array of 'host:port' strings" },
)

/** Certificates and keys as `tls.connect` takes them: PEM text, a Buffer, or a list of either. */
const pemOrList = customOption<unknown>('a string, a Buffer or an array of them', (value, path) => {
  const one = (v: unknown) =>
    typeof v === 'string' || Buffer.isBuffer(v) || (v !== null && typeof v === 'object')
  if (Array.isArray(value) ? value.every(one) : one(value)) return value
  throw invalidOption(path, 'must be a string, a Buffer or an array of them (PEM)', { value })
})
const anyValue = customOption<unknown>('any value', (value) => value)
const tlsVersion = oneOf(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'])

/**
 * Every key of Node's `tls.ConnectionOptions`: a misspelt `rejectUnauthorized` or `ca`
 * silently weakens or breaks TLS, so unknown keys are refused. The keys whose mistakes
 * matter are type-checked; the rest pass through to `tls.connect` as given.
 */
const tlsOptions = optionsObject({
  ca: pemOrList,
  cert: pemOrList,
  key: pemOrList,
  pfx: pemOrList,
  crl: pemOrList,
  passphrase: stringOption({ nonEmpty: false }),
  rejectUnauthorized: booleanOption,
  servername: nonEmptyString,
  checkServerIdentity: functionOption(),
  minVersion: tlsVersion,
  maxVersion: tlsVersion,
  ciphers: nonEmptyString,
  ALPNCallback: anyValue,
  ALPNProtocols: anyValue,
  SNICallback: anyValue,
  allowPartialTrustChain: anyValue,
  certificateCompression: anyValue,
  clientCertEngine: anyValue,
  dhparam: anyValue,
  ecdhCurve: anyValue,
  enableTrace: anyValue,
  honorCipherOrder: anyValue,
  host: anyValue,
  lookup: anyValue,
  minDHSize: anyValue,
  path: anyValue,
  port: anyValue,
  privateKeyEngine: anyValue,
  privateKeyIdentifier: anyValue,
  pskCallback: anyValue,
  requestCert: anyValue,
  requestOCSP: anyValue,
  secureContext: anyValue,
  secureOptions: anyValue,
  secureProtocol: anyValue,
  session: anyValue,
  sessionIdContext: anyValue,
  sessionTimeout: anyValue,
  sigalgs: anyValue,
  socket: anyValue,
  ticketKeys: anyValue,
  timeout: anyValue,
})

const saslOptions = optionsObject(
  {
    mechanism: required(oneOf(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'])),
    username: nonEmptyString,
    password: stringOption({ nonEmpty: false }),
    token: nonEmptyString,
  },
  (sasl, path) => {
    const needs =
      sasl.mechanism === 'OAUTHBEARER' ? (['token'] as const) : (['username', 'password'] as const)
    for (const key of needs) {
      if (sasl[key] === undefined) {
        throw invalidOption(optionPath(path, key), `is required for SASL mechanism ${sasl.mechanism}`)
      }
    }
  },
)

/** The connection settings' schema fields, shared by every options object that connects to Kafka. */
export const connectionOptionFields = {
  clientId: nonEmptyString,
  connectTimeoutMs: durationMs(),
  requestTimeoutMs: durationMs(),
  retryTimeoutMs: durationMs(),
  tls: tlsOptions as OptionType<TlsOptions>,
  sasl: saslOptions as OptionType<SaslOptions>,
}

export const connectionOptions = optionsObject(connectionOptionFields)

/** The schema fields of KafkaClientOptions, for options types that extend it. */
export const clientOptionFields = {
  ...connectionOptionFields,
  brokers: required(brokerList),
  logger: loggerOption,
}

const clientOptions = optionsObject(clientOptionFields)

/** Fills in the connection defaults of already-parsed options. */
export function resolveConnection(
  parsed: KafkaConnectionOptions & { readonly brokers: readonly string[]; readonly logger?: Logger },
): ResolvedClientOptions {
  return {
    ...CLIENT_DEFAULTS,
    ...parsed,
    brokers: [...parsed.brokers],
    tls: parsed.tls,
    sasl: parsed.sasl,
    logger: parsed.logger ?? createLogger(),
  }
}

/** Validates client options once, at construction, and fills in defaults. */
export function resolveClientOptions(
  options: KafkaClientOptions,
  owner = 'KafkaClient',
): ResolvedClientOptions {
  return resolveConnection(parseOptions(clientOptions, options, owner))
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
    ...(options.sasl ? { sasl: { ...options.sasl } } : {}),
  }
}
