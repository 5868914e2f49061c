import { protocolErrors, protocolErrorsCodesById } from '@platformatic/kafka'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { describeCauses, failureCauses, permanentKinds } from './failure-cause.ts'

/** Protocol errors that mean "your view of the cluster is stale": refresh metadata and retry. */
const staleMetadataErrors = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
])

export interface ProtocolErrorInfo {
  readonly id: string
  readonly code: number
  readonly retriable: boolean
  readonly staleMetadata: boolean
}

/** Describes a numeric Kafka protocol error code (0 = none). */
export function describeProtocolError(code: number): ProtocolErrorInfo {
  const id = protocolErrorsCodesById[code] ?? `UNKNOWN_SERVER_ERROR_${code}`
  const definition = protocolErrors[id]
  const staleMetadata = staleMetadataErrors.has(id)
  return { id, code, retriable: staleMetadata || (definition?.canRetry ?? false), staleMetadata }
}

interface ForeignError {
  code?: unknown
  apiId?: unknown
  canRetry?: unknown
  hasStaleMetadata?: unknown
  errors?: unknown
}

/** The first Kafka protocol error id (e.g. 'OFFSET_OUT_OF_RANGE') inside a wire-client error, if any. */
export function protocolErrorId(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined
  const foreign = error as ForeignError
  if (typeof foreign.apiId === 'string') return foreign.apiId
  if (Array.isArray(foreign.errors)) {
    for (const inner of foreign.errors) {
      const id = protocolErrorId(inner)
      if (id !== undefined) return id
    }
  }
  return undefined
}

/** True when any Kafka protocol error inside a wire-client error (however nested) is one of `ids`. */
export function hasProtocolError(error: unknown, ids: ReadonlySet<string>): boolean {
  if (error === null || typeof error !== 'object') return false
  const foreign = error as ForeignError
  if (typeof foreign.apiId === 'string' && ids.has(foreign.apiId)) return true
  if (Array.isArray(foreign.errors) && foreign.errors.some((inner) => hasProtocolError(inner, ids)))
    return true
  return error instanceof Error && error.cause !== undefined && hasProtocolError(error.cause, ids)
}

/**
 * True for failures where the same request may succeed later: network failures (refused,
 * reset, DNS, timeouts — a broker restarting or moving), leader and coordinator moves. A
 * wrong password or an untrusted certificate is never retried: it would only hide the cause
 * for `retryTimeoutMs`.
 */
export function isRetriableWireError(error: unknown): boolean {
  if (error instanceof SluiceError) return error.retriable
  if (error === null || typeof error !== 'object') return false
  if (failureCauses(error).some((cause) => permanentKinds.has(cause.kind))) return false
  return isRetriableNode(error)
}

function isRetriableNode(error: object): boolean {
  const foreign = error as ForeignError
  if (foreign.code === 'PLT_KFK_NETWORK' || foreign.code === 'PLT_KFK_TIMEOUT') return true
  const id = protocolErrorId(error)
  if (id !== undefined) return describeProtocolError(protocolErrors[id]?.code ?? -1).retriable
  if (Array.isArray(foreign.errors)) {
    return foreign.errors.some(
      (inner) => inner !== null && typeof inner === 'object' && isRetriableNode(inner),
    )
  }
  return typeof (error as NodeJS.ErrnoException).syscall === 'string'
}

/**
 * Wraps a wire-client failure into a SluiceError that says what was being done and why it
 * failed: the broker address and socket error (ECONNREFUSED, ENOTFOUND, a timeout), the
 * certificate or authentication problem, or the Kafka protocol error. Authentication and
 * certificate failures get their own codes; everything else is KAFKA.
 */
export function kafkaError(
  what: string,
  error: unknown,
  details: Record<string, unknown> = {},
  context: { username?: string } = {},
): SluiceError {
  if (error instanceof SluiceError) return error
  const id = protocolErrorId(error)
  const causes = failureCauses(error)
  const reason = causes.some((c) => c.kind !== 'other' && c.kind !== 'protocol')
    ? describeCauses(causes, context)
    : id === undefined
      ? messageOf(error)
      : `${id}: ${messageOf(error)}`
  const code = causes.some((c) => c.kind === 'authentication')
    ? ErrorCodes.KAFKA_AUTHENTICATION
    : causes.some((c) => c.kind === 'tls')
      ? ErrorCodes.KAFKA_TLS
      : ErrorCodes.KAFKA
  const brokers = [...new Set(causes.flatMap((c) => (c.address === undefined ? [] : [c.address])))]
  return new SluiceError(code, `${what} failed: ${reason}`, {
    retriable: isRetriableWireError(error),
    cause: error,
    details: {
      ...details,
      ...(id === undefined ? {} : { kafkaError: id }),
      ...(brokers.length === 0 ? {} : { brokers }),
    },
  })
}

/**
 * The error for a partition-level error code in a response (ListOffsets, Fetch): offsets out
 * of range get their own code, a partition its leader does not know yet is retriable (right
 * after creation or a restart), everything else keeps the protocol's own retriable flag.
 */
export function partitionError(
  what: string,
  topic: string,
  partition: number,
  code: number,
  offset?: bigint,
): SluiceError {
  const info = describeProtocolError(code)
  const details = { topic, partition, kafkaError: info.id, ...(offset === undefined ? {} : { offset }) }
  if (info.id === 'OFFSET_OUT_OF_RANGE') {
    return new SluiceError(
      ErrorCodes.OFFSET_OUT_OF_RANGE,
      `offset ${offset} is out of range for ${topic}-${partition} (deleted by retention, or beyond the log end)`,
      { details },
    )
  }
  if (info.id === 'UNKNOWN_TOPIC_OR_PARTITION' || info.id === 'UNKNOWN_TOPIC_ID') {
    return new SluiceError(
      ErrorCodes.KAFKA,
      `${what} of ${topic}-${partition}: the broker does not know it`,
      {
        retriable: true,
        details,
      },
    )
  }
  return new SluiceError(ErrorCodes.KAFKA, `${what} of ${topic}-${partition} failed: ${info.id}`, {
    retriable: info.retriable,
    details,
  })
}
