import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, invalidOption, isSluiceError, SluiceError } from '../../src/core/errors.ts'

test('invalidOption names the option first and carries the code', () => {
  const error = invalidOption('maxRatePerPartition', 'must be a non-negative number, got -1')
  assert.equal(error.code, ErrorCodes.INVALID_OPTION)
  assert.equal(error.message, "option 'maxRatePerPartition' must be a non-negative number, got -1")
  assert.equal(error.details.option, 'maxRatePerPartition')
  assert.equal(error.retriable, false)
  assert.ok(isSluiceError(error, ErrorCodes.INVALID_OPTION))
  assert.ok(!isSluiceError(error, ErrorCodes.KAFKA))
})

test('SluiceError keeps its cause and retriable flag', () => {
  const cause = new Error('socket hang up')
  const error = new SluiceError(ErrorCodes.KAFKA, 'fetch failed', { retriable: true, cause })
  assert.equal(error.cause, cause)
  assert.equal(error.retriable, true)
  assert.ok(!isSluiceError(cause))
})
