import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { isDeterministicFailure, taskFailedError } from '../../src/rdd/task-failure.ts'

test('only deserialization, offset-out-of-range and invalid input count as deterministic', () => {
  assert.equal(isDeterministicFailure(new SluiceError(ErrorCodes.DESERIALIZATION, 'x')), true)
  assert.equal(isDeterministicFailure(new SluiceError(ErrorCodes.OFFSET_OUT_OF_RANGE, 'x')), true)
  assert.equal(isDeterministicFailure(new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'x')), true)
  assert.equal(isDeterministicFailure(new SluiceError(ErrorCodes.INVALID_OPTION, 'x')), true)
  assert.equal(isDeterministicFailure(new SluiceError(ErrorCodes.KAFKA, 'x')), false)
  assert.equal(isDeterministicFailure(new SluiceError(ErrorCodes.TASK_FAILED, 'x')), false)
  assert.equal(isDeterministicFailure(new TypeError('x')), false)
  assert.equal(isDeterministicFailure('a string'), false)
})

test('taskFailedError names the node and partition description and keeps the cause', () => {
  const cause = 'thrown string'
  const error = taskFailedError(
    {
      rdd: 'KafkaRdd[4]',
      partitionDescription: 'partition 2 (words-2 [100, 200))',
      jobId: 9,
      nodeId: 4,
      partition: 2,
      attempts: 4,
    },
    cause,
  )
  assert.equal(error.code, ErrorCodes.TASK_FAILED)
  assert.equal(
    error.message,
    'KafkaRdd[4] partition 2 (words-2 [100, 200)) failed after 4 attempts: thrown string',
  )
  assert.equal(error.cause, cause)
  assert.deepEqual(error.details, { rdd: 'KafkaRdd[4]', jobId: 9, nodeId: 4, partition: 2, attempts: 4 })
})
