import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { KafkaClient } from '../../src/kafka/client.ts'

test('invalid TLS and SASL options fail at construction naming the option', () => {
  const invalid = (options: object, message: string) =>
    assert.throws(
      () => new KafkaClient({ brokers: ['h:1'], ...options }),
      (e: SluiceError) => e.code === ErrorCodes.INVALID_OPTION && e.message === message,
    )
  invalid(
    { tls: true },
    "option 'tls' must be an object of tls.connect options (use {} to trust the system CAs)",
  )
  invalid(
    { sasl: { mechanism: 'GSSAPI' } },
    `option 'sasl.mechanism' must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, got "GSSAPI"`,
  )
  invalid(
    { sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice' } },
    "option 'sasl.password' must be a non-empty string for SCRAM-SHA-512",
  )
  invalid(
    { sasl: { mechanism: 'OAUTHBEARER' } },
    "option 'sasl.token' must be a non-empty string for OAUTHBEARER",
  )
})
