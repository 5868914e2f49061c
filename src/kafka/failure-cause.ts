/**
 * Digs the reasons out of the wire client's error trees. A failed call comes back as
 * "metadata failed 4 times." wrapping "Cannot connect to any broker." wrapping one
 * "Connection to host:port failed." per broker, each caused by the socket's error; the
 * useful facts (which broker, ECONNREFUSED or ENOTFOUND, a certificate or password problem)
 * sit at the leaves. This module finds them so messages can say what happened and where.
 */

export type FailureKind =
  | 'refused'
  | 'dns'
  | 'timeout'
  | 'reset'
  | 'closed'
  | 'tls'
  | 'authentication'
  | 'network'
  | 'protocol'
  | 'other'

export interface FailureCause {
  readonly kind: FailureKind
  /** `host:port` of the broker the failure happened on, when the error tree says. */
  readonly address?: string
  /** A machine-readable code: a socket error (ECONNREFUSED), a TLS code, a Kafka protocol error id. */
  readonly code?: string
  /** What the leaf error said. */
  readonly message: string
}

/** Security failures that no retry will fix: a wrong password or a certificate that is not trusted. */
export const permanentKinds: ReadonlySet<FailureKind> = new Set(['tls', 'authentication'])

interface Node {
  message?: unknown
  code?: unknown
  syscall?: unknown
  hostname?: unknown
  address?: unknown
  port?: unknown
  apiId?: unknown
  serverErrorMessage?: unknown
  errors?: unknown
  cause?: unknown
  library?: unknown
}

const connectionMessage = /Connection to (\S+:\d+) (?:failed|timed out)/
const dnsCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA'])
const resetCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])
const timeoutCodes = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT'])
/** OpenSSL verification codes Node reports for an untrusted or mismatched certificate. */
const certificateCode = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT)|^ERR_TLS_|^ERR_SSL_|^ERR_OSSL_/

/** Every leaf reason in a wire-client error tree, with the broker address it belongs to. */
export function failureCauses(error: unknown): FailureCause[] {
  const causes: FailureCause[] = []
  const seen = new Set<unknown>()
  const visit = (value: unknown, address: string | undefined, authenticating: boolean, depth: number) => {
    if (value === null || typeof value !== 'object' || seen.has(value) || depth > 20) return
    seen.add(value)
    const node = value as Node
    const message = typeof node.message === 'string' ? node.message : String(value)
    const here = connectionMessage.exec(message)?.[1] ?? address
    const auth = authenticating || node.code === 'PLT_KFK_AUTHENTICATION'
    const children = [
      ...(Array.isArray(node.errors) ? node.errors : []),
      ...(node.cause === undefined ? [] : [node.cause]),
    ]
    if (children.length === 0) {
      causes.push(classifyLeaf(node, message, here, auth))
      return
    }
    for (const child of children) visit(child, here, auth, depth + 1)
  }
  visit(error, undefined, false, 0)
  return causes
}

/** Failures of the connection itself: a broker going away is retriable even in the middle of a login. */
const networkKinds: ReadonlySet<FailureKind> = new Set([
  'refused',
  'dns',
  'timeout',
  'reset',
  'closed',
  'network',
])

function classifyLeaf(node: Node, message: string, address: string | undefined, auth: boolean): FailureCause {
  const cause = classifyNetwork(node, message, address)
  const apiId = typeof node.apiId === 'string' ? node.apiId : undefined
  const refused = apiId !== undefined && /^SASL_|AUTHENTICATION/.test(apiId)
  if (!refused && (!auth || networkKinds.has(cause.kind) || cause.kind === 'tls')) {
    return auth && networkKinds.has(cause.kind)
      ? { ...cause, message: `${cause.message} during the SASL login` }
      : cause
  }
  const server = typeof node.serverErrorMessage === 'string' ? node.serverErrorMessage : undefined
  return {
    kind: 'authentication',
    ...(address === undefined ? {} : { address }),
    ...(apiId === undefined ? {} : { code: apiId }),
    message: server ?? message,
  }
}

function classifyNetwork(node: Node, message: string, address: string | undefined): FailureCause {
  const code = typeof node.code === 'string' ? node.code : undefined
  const at = address === undefined ? {} : { address }
  if (code !== undefined && typeof node.syscall === 'string') {
    if (code === 'ECONNREFUSED') return { kind: 'refused', ...at, code, message }
    if (dnsCodes.has(code)) {
      const where = address ?? (typeof node.hostname === 'string' ? node.hostname : undefined)
      return { kind: 'dns', ...(where === undefined ? {} : { address: where }), code, message }
    }
    if (resetCodes.has(code)) return { kind: 'reset', ...at, code, message }
    if (timeoutCodes.has(code)) return { kind: 'timeout', ...at, code, message }
    return { kind: 'network', ...at, code, message }
  }
  if (code !== undefined && (certificateCode.test(code) || typeof node.library === 'string')) {
    return { kind: 'tls', ...at, code, message }
  }
  if (/TLS/.test(message)) return { kind: 'tls', ...at, message }
  if (typeof node.apiId === 'string') return { kind: 'protocol', ...at, code: node.apiId, message }
  if (/timed out/i.test(message)) return { kind: 'timeout', ...at, message }
  if (/^Connection closed/.test(message)) return { kind: 'closed', ...at, message }
  if (code === 'PLT_KFK_NETWORK') return { kind: 'network', ...at, message }
  return { kind: 'other', ...at, ...(code === undefined ? {} : { code }), message }
}

/** One line per distinct cause, e.g. `127.0.0.1:9092: connection refused (ECONNREFUSED)`. */
export function describeCauses(causes: readonly FailureCause[], context: { username?: string } = {}): string {
  const lines = new Set<string>()
  for (const cause of causes) {
    const text = describeCause(cause, context)
    lines.add(cause.address === undefined ? text : `${cause.address}: ${text}`)
  }
  return [...lines].join('; ')
}

function describeCause(cause: FailureCause, context: { username?: string }): string {
  const code = cause.code === undefined ? '' : ` (${cause.code})`
  switch (cause.kind) {
    case 'refused':
      return `connection refused${code}`
    case 'dns':
      return `DNS lookup failed${code}`
    case 'timeout':
      return `${lowerFirst(stripPeriod(cause.message))}${code}`
    case 'reset':
      return `connection reset${code}`
    case 'closed':
      // A listener that expects TLS or SASL closes a connection that does not bring them.
      return `the broker closed the connection${cause.message.endsWith('during the SASL login') ? ' during the SASL login' : ''} (if it keeps doing so, check that the client's tls and sasl settings match the listener)`
    case 'tls':
      return `certificate verify failed${code}: ${stripPeriod(cause.message)}`
    case 'authentication': {
      const user = context.username === undefined ? '' : ` for user '${context.username}'`
      return `authentication failed${user}${code}: ${stripPeriod(cause.message)}`
    }
    default:
      return `${stripPeriod(cause.message)}${code}`
  }
}

function stripPeriod(text: string): string {
  return text.endsWith('.') ? text.slice(0, -1) : text
}

function lowerFirst(text: string): string {
  return text.length === 0 ? text : text[0]!.toLowerCase() + text.slice(1)
}
