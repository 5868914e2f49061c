import { protocolErrors, protocolErrorsCodesById } from '@platformatic/kafka'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'

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

/** True for failures where the same request may succeed later: network, timeouts, leader moves. */
export function isRetriableWireError(error: unknown): boolean {
  if (error instanceof SluiceError) return error.retriable
  if (error === null || typeof error !== 'object') return false
  const foreign = error as ForeignError
  if (foreign.code === 'PLT_KFK_NETWORK' || foreign.code === 'PLT_KFK_TIMEOUT') return true
  const id = protocolErrorId(error)
  if (id !== undefined) return describeProtocolError(protocolErrors[id]?.code ?? -1).retriable
  if (Array.isArray(foreign.errors)) return foreign.errors.some(isRetriableWireError)
  return typeof (error as NodeJS.ErrnoException).syscall === 'string'
}

/** Wraps a wire-client failure into a SluiceError(KAFKA) that says what was being done. */
export function kafkaError(what: string, error: unknown, details: Record<string, unknown> = {}): SluiceError {
  if (error instanceof SluiceError) return error
  const id = protocolErrorId(error)
  const reason = id === undefined ? messageOf(error) : `${id}: ${messageOf(error)}`
  return new SluiceError(ErrorCodes.KAFKA, `${what} failed: ${reason}`, {
    retriable: isRetriableWireError(error),
    cause: error,
    details: id === undefined ? details : { ...details, kafkaError: id },
  })
}
