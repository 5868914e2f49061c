import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
} from '@platformatic/kafka'
import { ErrorCodes } from '../../src/core/errors.ts'
import { isRetriableWireError, kafkaError } from '../../src/kafka/errors.ts'
import { describeCauses, failureCauses } from '../../src/kafka/failure-cause.ts'

// Error trees built the way the wire client builds them (connection.js, connection-pool.js,
// base.js), from its own error classes, so the classification is checked on their real shapes.

function socketError(code: string, syscall: string, extra: object = {}): Error {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall, ...extra })
}

function connectionFailed(address: string, cause: Error): NetworkError {
  return new NetworkError(`Connection to ${address} failed.`, { cause })
}

/** "metadata failed N times." around "Cannot connect to any broker." around each broker's failure. */
function retriedMetadata(...perBroker: NetworkError[]): MultipleErrors {
  const attempt = new MultipleErrors('Cannot connect to any broker.', perBroker)
  return new MultipleErrors('metadata failed 2 times.', [attempt, attempt])
}

test('a refused connection names every broker and the socket error, and is retriable', () => {
  const error = retriedMetadata(
    connectionFailed('10.0.0.1:9092', socketError('ECONNREFUSED', 'connect')),
    connectionFailed('10.0.0.2:9092', socketError('ECONNREFUSED', 'connect')),
  )
  assert.equal(
    describeCauses(failureCauses(error)),
    '10.0.0.1:9092: connection refused (ECONNREFUSED); 10.0.0.2:9092: connection refused (ECONNREFUSED)',
  )
  assert.equal(isRetriableWireError(error), true)
  const wrapped = kafkaError('reading cluster metadata', error)
  assert.equal(wrapped.code, ErrorCodes.KAFKA)
  assert.deepEqual(wrapped.details.brokers, ['10.0.0.1:9092', '10.0.0.2:9092'])
})

test('DNS failures and timeouts are named, and retriable', () => {
  const dns = retriedMetadata(
    connectionFailed(
      'kafka-1.internal:9092',
      socketError('ENOTFOUND', 'getaddrinfo', { hostname: 'kafka-1.internal' }),
    ),
  )
  assert.equal(describeCauses(failureCauses(dns)), 'kafka-1.internal:9092: DNS lookup failed (ENOTFOUND)')
  assert.equal(isRetriableWireError(dns), true)
  const timedOut = new MultipleErrors('metadata failed 1 times.', [
    new TimeoutError('Request timed out', { canRetry: true }),
  ])
  assert.equal(describeCauses(failureCauses(timedOut)), 'request timed out')
  assert.equal(isRetriableWireError(timedOut), true)
})

test('a refused login is permanent and names the user and what the broker said', () => {
  const refusal = new ResponseError(
    36,
    2,
    { '': [58, 'Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-512'] },
    {},
  )
  const error = retriedMetadata(
    connectionFailed(
      '10.0.0.1:9093',
      new AuthenticationError('SASL authentication failed.', { cause: refusal }),
    ),
  )
  assert.equal(isRetriableWireError(error), false)
  const wrapped = kafkaError('reading cluster metadata', error, {}, { username: 'alice' })
  assert.equal(wrapped.code, ErrorCodes.KAFKA_AUTHENTICATION)
  assert.equal(
    wrapped.message,
    "reading cluster metadata failed: 10.0.0.1:9093: authentication failed for user 'alice' (SASL_AUTHENTICATION_FAILED): " +
      'Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-512',
  )
})

test('a broker going away during a login is an outage, not a refused login', () => {
  const error = retriedMetadata(
    connectionFailed(
      '10.0.0.1:9093',
      new AuthenticationError('Cannot find a suitable SASL mechanism.', {
        cause: new NetworkError('Connection closed'),
      }),
    ),
  )
  assert.equal(isRetriableWireError(error), true)
  const [cause] = failureCauses(error)
  assert.equal(cause?.kind, 'closed')
  assert.match(
    describeCauses(failureCauses(error)),
    /^10\.0\.0\.1:9093: the broker closed the connection during the SASL login/,
  )
})

test('a certificate that does not verify is permanent and keeps its OpenSSL code', () => {
  const verify = Object.assign(new Error('self-signed certificate in certificate chain'), {
    code: 'SELF_SIGNED_CERT_IN_CHAIN',
  })
  const error = retriedMetadata(connectionFailed('10.0.0.1:9093', verify))
  assert.equal(isRetriableWireError(error), false)
  const wrapped = kafkaError('listing topics', error)
  assert.equal(wrapped.code, ErrorCodes.KAFKA_TLS)
  assert.equal(
    wrapped.message,
    'listing topics failed: 10.0.0.1:9093: certificate verify failed (SELF_SIGNED_CERT_IN_CHAIN): self-signed certificate in certificate chain',
  )
})

test('protocol errors keep their id and the protocol’s retriable flag', () => {
  const moved = new ResponseError(2, 9, { '/topics/0/partitions/0': [6, null] }, {})
  assert.equal(isRetriableWireError(moved), true)
  assert.equal(kafkaError('listing offsets', moved).details.kafkaError, 'NOT_LEADER_OR_FOLLOWER')
  const denied = new ProtocolError('TOPIC_AUTHORIZATION_FAILED')
  assert.equal(isRetriableWireError(denied), false)
})
