import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { retryKafka } from '../../src/kafka/retry.ts'

const refused = () =>
  new SluiceError(ErrorCodes.KAFKA, 'reading cluster metadata failed: 127.0.0.1:1: connection refused', {
    retriable: true,
  })

test('a stop asked while a call keeps failing ends its retries, naming the last failure', async () => {
  const stopping = new AbortController()
  let attempts = 0
  const error = await retryKafka(
    'planning',
    async () => {
      attempts++
      if (attempts === 3) stopping.abort()
      throw refused()
    },
    { timeoutMs: 600_000, stopRetrying: stopping.signal },
  ).then(
    () => assert.fail('the call succeeded'),
    (e: SluiceError) => e,
  )
  assert.equal(attempts, 3)
  assert.equal(error.code, ErrorCodes.KAFKA)
  assert.equal(error.details.stopped, true)
  assert.equal(error.details.attempts, 3)
  assert.match(error.message, /connection refused \(not retried: stopping, after 3 attempts\)/)
})

test('a stop asked during the backoff wait ends it without another attempt', async () => {
  const stopping = new AbortController()
  let attempts = 0
  const call = retryKafka(
    'planning',
    async () => {
      attempts++
      throw refused()
    },
    // The stop comes during the first backoff wait (50 ms), before a second attempt.
    { timeoutMs: 600_000, stopRetrying: stopping.signal },
  )
  setImmediate(() => stopping.abort())
  await assert.rejects(call, (e: SluiceError) => e.details.stopped === true)
  assert.equal(attempts, 1)
})

test('a call under way when the stop comes still completes: a healthy call is not interrupted', async () => {
  const stopping = new AbortController()
  stopping.abort()
  assert.equal(
    await retryKafka('planning', async () => 'planned', { timeoutMs: 1000, stopRetrying: stopping.signal }),
    'planned',
  )
})

test('a non-retriable failure is thrown as it is, stop or no stop', async () => {
  const stopping = new AbortController()
  const denied = new SluiceError(ErrorCodes.KAFKA_AUTHENTICATION, 'authentication failed', {
    retriable: false,
  })
  await assert.rejects(
    retryKafka('planning', async () => Promise.reject(denied), {
      timeoutMs: 1000,
      stopRetrying: stopping.signal,
    }),
    (e) => e === denied,
  )
})
